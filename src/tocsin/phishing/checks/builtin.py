"""Importing this module registers every check shipped with Tocsin (one line per family)."""

from __future__ import annotations

from tocsin.phishing.checks import (  # noqa: F401
    attachments,
    impersonation,
    links,
    lists,  # noqa: F401
)
