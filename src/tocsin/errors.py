"""The error hierarchy shared by every layer.

Library code raises these and never prints or exits; only ``tocsin.cli`` maps them to
exit codes (see DESIGN.md: 2 usage, 3 bad input, 4 unavailable source).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and optionally a line, a column and a field."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file)
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.field is not None:
            text = f"{text} [{self.field}]" if text else f"[{self.field}]"
        return text


class TocsinError(Exception):
    """Base of every error Tocsin raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is not None and str(self.location):
            return f"{self.location}: {self.message}"
        return self.message


class UsageError(TocsinError):
    """The command was called wrongly (bad option combination, unknown name)."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration (environment or TOML file) is invalid."""


class InputError(TocsinError):
    """Input data is malformed: a file, a row, a field. Carries where."""

    exit_code = 3


class InventoryError(InputError):
    """An inventory import could not be applied."""


class SourceUnavailableError(TocsinError):
    """A feed, a server or a database could not be reached."""

    exit_code = 4


class StoreError(TocsinError):
    """The database refused an operation or is in an unexpected state."""

    exit_code = 4


class NotFoundError(UsageError):
    """A named object (asset, establishment, user) does not exist."""


class AuthError(TocsinError):
    """Authentication or authorisation failed."""

    exit_code = 2
