"""Nested JSON objects to dotted text fields (bounded depth and width)."""

from __future__ import annotations

import json

MAX_DEPTH = 32


class TooManyFieldsError(ValueError):
    pass


def scalar_text(value: object) -> str | None:
    """A JSON value as text: strings as they are, ``true``/``false``, lists as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def flatten(
    node: dict[str, object],
    into: dict[str, str],
    max_fields: int,
    prefix: str = "",
    depth: int = 0,
) -> dict[str, str]:
    """``{"a": {"b": 1}}`` → ``{"a.b": "1"}``; deeper than MAX_DEPTH stays JSON text."""
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth < MAX_DEPTH:
            flatten(value, into, max_fields, f"{name}.", depth + 1)
            continue
        text = scalar_text(value)
        if text is None:
            continue
        into[name] = text
        if len(into) > max_fields:
            raise TooManyFieldsError(f"more than {max_fields} fields")
    return into
