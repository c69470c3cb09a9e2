"""What the checks know about the establishment that received the message."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tocsin.config import PhishingSettings


@dataclass(frozen=True)
class Context:
    """The establishment's own facts, from the settings (``[phishing]``).

    ``authserv_ids``: the ``authserv-id`` of the establishment's own mail gateways; an
    Authentication-Results or ARC header from anyone else is ignored (it can be forged).
    ``own_domains``: the establishment's mail domains (lookalikes of them are suspicious).
    ``executives``: display names of people and services staff trust (director, DSI…).
    ``allow`` / ``block``: sender addresses or domains always trusted / always phishing.
    """

    authserv_ids: frozenset[str] = frozenset()
    own_domains: frozenset[str] = frozenset()
    executives: tuple[str, ...] = ()
    allow: frozenset[str] = frozenset()
    block: frozenset[str] = frozenset()
    lang: str = "fr"
    extra: dict[str, str] = field(default_factory=dict)
    model: Path | None = None  # the classifier's file; None: the one shipped


DEFAULT_CONTEXT = Context()


def context_from(settings: PhishingSettings, lang: str = "fr") -> Context:
    """The analysis context of the ``[phishing]`` settings; a configured model that cannot
    be read is an error here, naming its file, not a silent fallback at analysis time."""
    if settings.model is not None:
        from tocsin.phishing.classifier import configured_model

        configured_model(settings.model)
    return Context(
        authserv_ids=frozenset(settings.authserv_ids),
        own_domains=frozenset(settings.own_domains),
        executives=tuple(settings.executives),
        allow=frozenset(settings.allow),
        block=frozenset(settings.block),
        lang=lang,
        model=settings.model,
    )
