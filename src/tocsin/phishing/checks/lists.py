"""The establishment's own allow and block lists (sender addresses or domains)."""

from __future__ import annotations

from collections.abc import Iterator

from tocsin.phishing.checks import CHECKS
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason


def _listed(address: str, entries: frozenset[str]) -> str | None:
    """The entry ``address`` falls under: itself, its domain, or a parent domain."""
    address = address.lower()
    if address in entries:
        return address
    domain = address.rpartition("@")[2]
    parts = domain.split(".")
    for start in range(len(parts) - 1):
        candidate = ".".join(parts[start:])
        if candidate in entries:
            return candidate
    return None


class ListsCheck:
    name = "lists"

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        sender = message.sender_address
        if sender is None or "@" not in sender.address:
            return
        blocked = _listed(sender.address, context.block)
        if blocked:
            yield Reason("list.blocked", 100, f"sender {sender.address} is on the block list")
            return
        allowed = _listed(sender.address, context.allow)
        if allowed:
            yield Reason("list.allowed", -50, f"sender {sender.address} is on the allow list")


CHECKS.register(ListsCheck())
