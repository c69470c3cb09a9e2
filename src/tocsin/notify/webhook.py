"""Bulletins by webhook: an HTTP POST of JSON.

Payloads, by :class:`WebhookMode`:

- ``json`` (default): the bulletin document itself (docs/bulletins.md, version 1);
- ``text``: ``{"text": "<the Markdown bulletin>"}``, which Mattermost, Rocket.Chat, Slack-
  compatible endpoints and the older Microsoft Teams connectors display as a message;
- ``mattermost``: the same, with ``username`` "Tocsin", cut to what Mattermost accepts;
- ``teams``: a message with one Adaptive Card (title, counts, the Markdown body), the shape
  that Teams *Workflows* webhooks ("Post to a channel when a webhook request is received")
  expect.

A webhook URL usually embeds its token: it is a secret. Errors and deliveries name the
webhook by scheme and host only (:func:`tocsin.config.redact_url`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx
from pydantic import SecretStr

from tocsin import __version__
from tocsin.config import redact_url
from tocsin.notify import NotifyError
from tocsin.report.render import render_markdown
from tocsin.watch.bulletin import Bulletin, bulletin_document

__all__ = ["WebhookMode", "post_bulletin", "post_payload", "teams_message", "webhook_payload"]

#: Mattermost refuses messages over 16,383 characters; Teams cards over about 28 KB.
MATTERMOST_MAX_CHARS = 16_000
TEAMS_MAX_CHARS = 20_000
_CUT = {"fr": "… (bulletin tronqué : la suite dans le tableau de bord)",
        "en": "… (bulletin cut: see the dashboard for the rest)"}  # fmt: skip


class WebhookMode(StrEnum):
    JSON = "json"
    TEXT = "text"  # Mattermost, Slack-compatible, older Teams connectors
    TEAMS = "teams"  # Teams Workflows: an Adaptive Card
    MATTERMOST = "mattermost"


def _cut(text: str, limit: int, lang: str) -> str:
    if len(text) <= limit:
        return text
    note = _CUT["en" if lang == "en" else "fr"]
    return text[: limit - len(note) - 2].rstrip() + "\n\n" + note


def _teams_card(bulletin: Bulletin) -> dict[str, Any]:
    body = _cut(render_markdown(bulletin), TEAMS_MAX_CHARS, bulletin.lang)
    return teams_message(bulletin.title, body)


def teams_message(title: str, body: str) -> dict[str, Any]:
    """A Teams Workflows message with one Adaptive Card: a bold title, then ``body``."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium",
             "wrap": True},
            {"type": "TextBlock", "text": body, "wrap": True},
        ],
    }  # fmt: skip
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def webhook_payload(bulletin: Bulletin, mode: WebhookMode | str = WebhookMode.JSON) -> Any:
    chosen = WebhookMode(mode)
    if chosen is WebhookMode.TEXT:
        return {"text": render_markdown(bulletin)}
    if chosen is WebhookMode.MATTERMOST:
        text = _cut(render_markdown(bulletin), MATTERMOST_MAX_CHARS, bulletin.lang)
        return {"text": text, "username": "Tocsin"}
    if chosen is WebhookMode.TEAMS:
        return _teams_card(bulletin)
    return bulletin_document(bulletin)


def post_bulletin(
    url: str | SecretStr,
    bulletin: Bulletin,
    mode: WebhookMode | str = WebhookMode.JSON,
    *,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """POST the bulletin to ``url``; the HTTP status (NotifyError unless 2xx).

    The error names the webhook by scheme and host only, never its path or query.
    """
    return post_payload(
        url,
        webhook_payload(bulletin, mode),
        timeout=timeout,
        headers=headers,
        transport=transport,
    )


def post_payload(
    url: str | SecretStr,
    payload: Any,
    *,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """POST ``payload`` as JSON to ``url``; the HTTP status (NotifyError unless 2xx)."""
    secret = url.get_secret_value() if isinstance(url, SecretStr) else url
    shown = redact_url(secret)
    sent_headers = {"User-Agent": f"Tocsin/{__version__}", **(headers or {})}
    try:
        with httpx.Client(timeout=timeout, transport=transport, trust_env=False) as client:
            response = client.post(secret, json=payload, headers=sent_headers)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        reason = str(exc).replace(secret, shown) or type(exc).__name__
        raise NotifyError(shown, f"webhook failed: {reason}") from None
    if not response.is_success:
        raise NotifyError(shown, f"webhook answered HTTP {response.status_code}")
    return response.status_code
