"""Simulated file-share activity for testing and measuring the watcher (tests and bench).

``make_share`` fills a folder with realistic documents (Office, PDF, CSV, text) in service
sub-folders; ``Encryption`` encrypts them one by one as ransomware does (XOR with a random
key over the whole file, rename to ``.locked``, a note per folder) at a chosen pace and
stops as soon as it is told to (when the watcher alerted), counting the files it touched;
``user_session`` and ``backup_copy`` are the benign activity that must not alert.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tocsin.detect.detectors.canary import csv_text, docx, pdf, xlsx

SERVICES = ("Urgences", "Cardiologie", "Radiologie", "Pharmacie", "Direction", "RH")
_KINDS: tuple[tuple[str, Callable[[str], bytes]], ...] = (
    (".docx", docx),
    (".xlsx", xlsx),
    (".pdf", pdf),
    (".csv", csv_text),
    (".txt", lambda seed: ("Compte rendu de réunion " + seed + "\n").encode() * 30),
)
NOTE = "HOW_TO_RESTORE_FILES.txt"


def make_share(folder: Path, files: int, seed: int = 1) -> list[Path]:
    """``files`` documents spread over service folders; returns them in walk order."""
    made = []
    for i in range(files):
        ext, maker = _KINDS[i % len(_KINDS)]
        sub = folder / SERVICES[i % len(SERVICES)]
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"document_{seed}_{i:04d}{ext}"
        path.write_bytes(maker(path.name))
        made.append(path)
    return sorted(made)


@dataclass
class Encryption:
    """Encrypts files one by one; ``touched`` is how many it changed so far."""

    delay_seconds: float = 0.01  # per file: ~100 files/s, the pace of LockBit on a share
    seed: int = 7
    touched: int = 0
    stop_requested: bool = False
    notes: set[Path] = field(default_factory=set)

    def stop(self) -> None:
        self.stop_requested = True

    def run(self, files: list[Path]) -> int:
        rng = random.Random(self.seed)  # noqa: S311 - simulated attack, not cryptography
        for path in files:
            if self.stop_requested:
                break
            data = path.read_bytes()
            key = bytes(rng.randrange(256) for _ in range(32))
            path.write_bytes(bytes(b ^ key[i % 32] for i, b in enumerate(data)))
            path.rename(path.with_name(path.name + ".locked"))
            if path.parent not in self.notes:
                (path.parent / NOTE).write_text("Vos fichiers sont chiffrés.\n", encoding="utf-8")
                self.notes.add(path.parent)
            self.touched += 1
            time.sleep(self.delay_seconds)
        return self.touched


def user_session(files: list[Path], delay_seconds: float = 0.05) -> None:
    """A user opens and saves a few documents (valid content) and renames two of them."""
    for path in files[:6]:
        maker = dict(_KINDS)[path.suffix]
        temp = path.with_name("~$" + path.name)
        temp.write_bytes(b"lock")  # Office's owner file
        path.write_bytes(maker(path.name + " v2"))
        temp.unlink()
        time.sleep(delay_seconds)
    for path in files[6:8]:
        path.rename(path.with_name("final_" + path.name))
        time.sleep(delay_seconds)


def backup_copy(files: list[Path], target: Path) -> None:
    """A backup job copies every file (unchanged) into ``target``."""
    for path in files:
        dest = target / path.parent.name / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
