"""The checks: one module per family of signs, each a :class:`Check` in :data:`CHECKS`.

A check is pure: it reads a :class:`~tocsin.phishing.message.ParsedMessage` (and the
:class:`~tocsin.phishing.context.Context`, and the links already extracted) and returns
reasons. It never fetches a URL, never runs anything, never raises for odd input (a check
that fails is reported as the reason ``check.error`` by the analyser, and the others go
on). Register a new family by adding an instance to :data:`CHECKS` (docs/phishing-checks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from tocsin.errors import UsageError
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason


class Check(Protocol):
    name: str

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterable[Reason]:
        """The reasons this family of signs finds in ``message``."""
        ...


class CheckRegistry:
    """Checks by name; registering a name twice is refused."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, check: Check) -> Check:
        if check.name in self._checks:
            raise UsageError(f"phishing check {check.name!r} is already registered")
        self._checks[check.name] = check
        return check

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def names(self) -> list[str]:
        return list(self._checks)


CHECKS = CheckRegistry()
