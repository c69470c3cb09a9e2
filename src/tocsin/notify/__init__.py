"""Delivering bulletins: email over SMTP and webhooks (JSON, or Teams/Mattermost text).

Each channel is one module with one function taking a rendered bulletin; failures are
:class:`NotifyError` (a :class:`~tocsin.errors.SourceUnavailableError`, exit code 4) naming
the server, so that ``tocsin watch run --notify`` can report one channel and go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tocsin.config import SmtpSettings
from tocsin.errors import Location, SourceUnavailableError, TocsinError
from tocsin.watch.bulletin import Bulletin

__all__ = ["Delivery", "NotifyError", "deliver_bulletin"]


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
    target: str
    error: str | None = None


def deliver_bulletin(
    bulletin: Bulletin,
    smtp: SmtpSettings,
    *,
    recipients: Sequence[str] = (),
    webhooks: Sequence[str] = (),
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
        try:
            post_bulletin(url, bulletin, webhook_mode)
            done.append(Delivery("webhook", url))
        except TocsinError as exc:
            done.append(Delivery("webhook", url, str(exc)))
    return done
