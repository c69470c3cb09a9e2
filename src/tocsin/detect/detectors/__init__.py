"""Tocsin's own detectors: the ransomware Sigma pack, canary files, the file-share watcher.

The pack is package data (``tocsin/data/detect/rules/ransomware``) run by the same engines
as any Sigma rule; :mod:`.canary` plants decoys and writes the Sigma rule that watches them;
:mod:`.watcher` decides on file-activity events (pure), :mod:`.watcher_fs` feeds it from
``watchdog`` and :mod:`.watcher_sim` simulates an encryption run for tests and the bench.
The host kill chain is a Sigma temporal correlation of the pack.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from tocsin.data import data_path

RANSOMWARE_PACK = ("detect", "rules", "ransomware")


def ransomware_pack() -> Path:
    """The folder of the ransomware Sigma pack (inside the installed package)."""
    with resources.as_file(data_path(*RANSOMWARE_PACK)) as path:
        return Path(path)


@cache
def ransomware_extensions() -> frozenset[str]:
    """Extensions (``.lockbit``…) ransomware families append, from the bundled data list."""
    text = data_path("detect", "ransomware_extensions.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
