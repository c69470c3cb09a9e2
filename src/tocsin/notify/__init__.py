"""Delivering bulletins: email over SMTP and webhooks (JSON, or Teams/Mattermost text).

Each channel is one module with one function taking a rendered bulletin; failures are
:class:`NotifyError` (a :class:`~tocsin.errors.SourceUnavailableError`, exit code 4) naming
the server, so that ``tocsin watch run --notify`` can report one channel and go on.
Webhook URLs are secrets (they carry tokens): a :class:`Delivery` names a webhook by its
scheme and host only. Who receives what comes from :class:`tocsin.config.NotifySettings`
(``NotifySettings.target(slug)``), which :func:`deliver_to` takes as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from tocsin.config import NotifyTarget, SmtpSettings, redact_url
from tocsin.errors import Location, SourceUnavailableError, TocsinError
from tocsin.watch.bulletin import Bulletin

__all__ = ["Delivery", "NotifyError", "deliver_bulletin", "deliver_to"]


class NotifyError(SourceUnavailableError):
    """A bulletin could not be delivered: which server, and why."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(reason, Location(target))
        self.target = target
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """How sending one bulletin through one channel went (``error`` None: delivered)."""

    channel: str  # "email" or "webhook"
    target: str  # the recipients, or the webhook's scheme and host
    error: str | None = None


def deliver_bulletin(
    bulletin: Bulletin,
    smtp: SmtpSettings,
    *,
    recipients: Sequence[str] = (),
    webhooks: Sequence[str | SecretStr] = (),
    webhook_mode: str = "json",
) -> list[Delivery]:
    """Send the bulletin by email (when recipients are given) and to each webhook.

    A channel that fails is reported in its :class:`Delivery`; the others are still tried.
    """
    # Imported here: the channel modules import NotifyError from this package.
    from tocsin.notify.email import send_bulletin
    from tocsin.notify.webhook import post_bulletin

    done: list[Delivery] = []
    if recipients:
        target = ", ".join(recipients)
        try:
            send_bulletin(smtp, bulletin, recipients)
            done.append(Delivery("email", target))
        except TocsinError as exc:
            done.append(Delivery("email", target, str(exc)))
    for url in webhooks:
        shown = redact_url(url)
        try:
            post_bulletin(url, bulletin, webhook_mode)
            done.append(Delivery("webhook", shown))
        except TocsinError as exc:
            done.append(Delivery("webhook", shown, str(exc)))
    return done


def deliver_to(bulletin: Bulletin, smtp: SmtpSettings, target: NotifyTarget) -> list[Delivery]:
    """:func:`deliver_bulletin` to the recipients and webhooks of a settings target."""
    return deliver_bulletin(
        bulletin,
        smtp,
        recipients=target.recipients,
        webhooks=target.webhooks,
        webhook_mode=target.webhook_mode,
    )
