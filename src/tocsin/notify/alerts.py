"""Detection alerts by email and webhook: the new high and critical ones, in one message.

Sent by :func:`tocsin.detect.alerts.notify_new_alerts` to the same people and webhooks as
the establishment's bulletins (``[notify]``). The text is French or English; the JSON
webhook payload is ``{"version": 1, "kind": "detect-alerts", "establishment", "alerts"}``
with each alert as :func:`tocsin.detect.alert_document.alert_record` renders it, without
its events (they may hold personal data: the dashboard shows them to those allowed).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from tocsin.config import NotifyTarget, SmtpSettings, redact_url
from tocsin.detect.alert_document import alert_record
from tocsin.errors import TocsinError
from tocsin.notify import Delivery
from tocsin.store.alerts import StoredAlert

__all__ = ["alert_message", "alerts_payload", "alerts_text", "deliver_alerts"]

_WORDS = {
    "fr": {
        "subject": "[Tocsin] {n} alerte(s) de détection élevée(s) ou critique(s) — {est}",
        "intro": "Nouvelles alertes de détection pour {est} :",
        "levels": {"critical": "CRITIQUE", "high": "ÉLEVÉE"},
        "line": "- **{level}** {title} — hôte {host}{asset}, {count} événement(s), "
        "premier {first} (ATT&CK : {attack})",
        "asset": " (actif {key})",
        "end": "Les événements et le suivi sont dans le tableau de bord Tocsin, "
        "rubrique Détection.",
    },
    "en": {
        "subject": "[Tocsin] {n} high or critical detection alert(s) — {est}",
        "intro": "New detection alerts for {est}:",
        "levels": {"critical": "CRITICAL", "high": "HIGH"},
        "line": "- **{level}** {title} — host {host}{asset}, {count} event(s), "
        "first {first} (ATT&CK: {attack})",
        "asset": " (asset {key})",
        "end": "The events and the follow-up are on the Tocsin dashboard, under Detection.",
    },
}


def alerts_text(stored: Sequence[StoredAlert], establishment: str, lang: str) -> tuple[str, str]:
    """The subject and the Markdown text of a notification."""
    words = _WORDS["en" if lang == "en" else "fr"]
    lines = [str(words["intro"]).format(est=establishment), ""]
    ordered = sorted(
        stored, key=lambda s: (s.alert.level != "critical", s.alert.first or s.created_at)
    )
    for item in ordered:
        alert = item.alert
        levels: dict[str, str] = words["levels"]  # type: ignore[assignment]
        lines.append(
            str(words["line"]).format(
                level=levels.get(alert.level, alert.level.upper()),
                title=alert.title,
                host=alert.host or "?",
                asset=str(words["asset"]).format(key=item.asset_key) if item.asset_key else "",
                count=alert.count,
                first=alert.first.strftime("%Y-%m-%d %H:%M UTC") if alert.first else "?",
                attack=", ".join(alert.attack) or "-",
            )
        )
    lines += ["", str(words["end"])]
    subject = str(words["subject"]).format(n=len(stored), est=establishment)
    return subject, "\n".join(lines)


def alerts_payload(stored: Sequence[StoredAlert], establishment: str, lang: str, mode: str) -> Any:
    """The webhook body for ``mode`` (json, text, mattermost, teams)."""
    from tocsin.notify.webhook import teams_message

    subject, text = alerts_text(stored, establishment, lang)
    if mode == "teams":
        return teams_message(subject, text)
    if mode in ("text", "mattermost"):
        body: dict[str, Any] = {"text": f"**{subject}**\n\n{text}"}
        if mode == "mattermost":
            body["username"] = "Tocsin"
        return body
    return {
        "version": 1,
        "kind": "detect-alerts",
        "establishment": establishment,
        "alerts": [alert_record(item, events=False) for item in stored],
    }


def alert_message(
    stored: Sequence[StoredAlert],
    establishment: str,
    lang: str,
    sender: str,
    recipients: Sequence[str],
) -> EmailMessage:
    subject, text = alerts_text(stored, establishment, lang)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="tocsin.local")
    message["Content-Language"] = lang
    message.set_content(text, subtype="plain", charset="utf-8")
    return message


def deliver_alerts(
    stored: Sequence[StoredAlert],
    establishment: str,
    smtp: SmtpSettings,
    target: NotifyTarget,
    lang: str,
) -> list[Delivery]:
    """Send to the target's recipients and webhooks; each channel's outcome."""
    from tocsin.notify.email import send_message
    from tocsin.notify.webhook import post_payload

    done: list[Delivery] = []
    if target.recipients:
        shown = ", ".join(target.recipients)
        message = alert_message(stored, establishment, lang, smtp.sender, target.recipients)
        try:
            send_message(smtp, message)
            done.append(Delivery("email", shown))
        except TocsinError as exc:
            done.append(Delivery("email", shown, str(exc)))
    for url in target.webhooks:
        payload = alerts_payload(stored, establishment, lang, target.webhook_mode)
        try:
            post_payload(url, payload)
            done.append(Delivery("webhook", redact_url(url)))
        except TocsinError as exc:
            done.append(Delivery("webhook", redact_url(url), str(exc)))
    return done
