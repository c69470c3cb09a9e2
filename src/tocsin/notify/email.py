"""Bulletins by email: one multipart message (plain text and HTML) over SMTP.

The settings are :class:`tocsin.config.SmtpSettings` (``TOCSIN_SMTP__HOST``, ``…__PORT``,
``…__USERNAME``, ``…__PASSWORD`` or ``TOCSIN_SMTP__PASSWORD_FILE``, ``…__STARTTLS``,
``…__SENDER``). With ``starttls`` (the default) the session is upgraded before any login,
and a server that does not offer STARTTLS is refused rather than sent credentials in clear.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tocsin.config import SmtpSettings
from tocsin.errors import UsageError
from tocsin.notify import NotifyError
from tocsin.report.render import render_html, render_markdown
from tocsin.watch.bulletin import Bulletin

__all__ = ["bulletin_message", "send_bulletin", "send_message"]


def bulletin_message(bulletin: Bulletin, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The bulletin as a message: Markdown as the text part, the HTML bulletin as the other."""
    message = EmailMessage()
    message["Subject"] = bulletin.subject()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="tocsin.local")
    message["Content-Language"] = bulletin.lang
    message.set_content(render_markdown(bulletin), subtype="plain", charset="utf-8")
    message.add_alternative(render_html(bulletin), subtype="html", charset="utf-8")
    return message


def send_message(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> None:
    """Send ``message`` through the configured server (NotifyError when it fails)."""
    if not settings.host:
        raise UsageError("no SMTP server configured (set TOCSIN_SMTP__HOST)")
    target = f"smtp://{settings.host}:{settings.port}"
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                if not smtp.has_extn("starttls"):
                    raise NotifyError(target, "the server does not offer STARTTLS")
                smtp.starttls(context=context or ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                smtp.login(settings.username, password)
            smtp.send_message(message)
    except NotifyError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(target, f"could not send the email: {exc}") from exc


def send_bulletin(
    settings: SmtpSettings,
    bulletin: Bulletin,
    recipients: Sequence[str],
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> EmailMessage:
    """Mail the bulletin to ``recipients``; the message sent."""
    if not recipients:
        raise UsageError("no recipient for the bulletin email")
    message = bulletin_message(bulletin, settings.sender, recipients)
    send_message(settings, message, timeout=timeout, context=context)
    return message
