"""Bundled data: alias tables, demo establishment, later scenarios and frameworks."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def data_path(*parts: str) -> Traversable:
    path = resources.files("tocsin.data")
    for part in parts:
        path = path / part
    return path
