"""Importing this module registers every check shipped with Tocsin (one name per family)."""

from __future__ import annotations

from tocsin.phishing.checks import (  # noqa: F401
    attachments,
    headers,
    impersonation,
    language,
    links,
    lists,
    model,
)
