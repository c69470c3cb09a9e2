"""Bulletins by webhook: an HTTP POST of JSON.

Two payloads:

- ``json`` (default): the bulletin document itself (docs/bulletins.md, version 1);
- ``text``: ``{"text": "<the Markdown bulletin>"}``, which Microsoft Teams incoming webhooks,
  Mattermost, Rocket.Chat and Slack-compatible endpoints display as a message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx

from tocsin import __version__
from tocsin.notify import NotifyError
from tocsin.report.render import render_markdown
from tocsin.watch.bulletin import Bulletin, bulletin_document

__all__ = ["WebhookMode", "post_bulletin", "webhook_payload"]


class WebhookMode(StrEnum):
    JSON = "json"
    TEXT = "text"  # Teams / Mattermost compatible


def webhook_payload(bulletin: Bulletin, mode: WebhookMode | str = WebhookMode.JSON) -> Any:
    if WebhookMode(mode) is WebhookMode.TEXT:
        return {"text": render_markdown(bulletin)}
    return bulletin_document(bulletin)


def post_bulletin(
    url: str,
    bulletin: Bulletin,
    mode: WebhookMode | str = WebhookMode.JSON,
    *,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """POST the bulletin to ``url``; the HTTP status (NotifyError unless 2xx)."""
    sent_headers = {"User-Agent": f"Tocsin/{__version__}", **(headers or {})}
    try:
        with httpx.Client(timeout=timeout, transport=transport, trust_env=False) as client:
            response = client.post(url, json=webhook_payload(bulletin, mode), headers=sent_headers)
    except httpx.HTTPError as exc:
        raise NotifyError(url, f"webhook failed: {exc}") from exc
    if not response.is_success:
        raise NotifyError(url, f"webhook answered HTTP {response.status_code}")
    return response.status_code
