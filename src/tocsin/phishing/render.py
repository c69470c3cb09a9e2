"""A reported message made safe to show: no script, no remote content, no live link.

The HTML body goes through nh3 (the ammonia sanitiser) with a short list of formatting tags
and no URL scheme at all, so images, scripts, styles, forms and every href are dropped; the
text is shown as text. Links are listed apart, as text, with the host they really go to.
The dashboard's Content-Security-Policy (``default-src 'self'``) is a second wall.
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

from tocsin.phishing.links import Link, extract_links
from tocsin.phishing.message import Attachment, ParsedMessage
from tocsin.phishing.model import Source
from tocsin.phishing.parse import parse_message

SAFE_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "a", "ul", "ol", "li", "div", "span", "table",
    "thead", "tbody", "tr", "td", "th", "h1", "h2", "h3", "h4", "blockquote", "pre", "code",
    "hr", "small", "sup", "sub",
}  # fmt: skip
SHOWN_HEADERS = ("from", "reply-to", "return-path", "sender", "to", "cc", "date", "subject")
MAX_HTML_CHARS = 300_000


@dataclass(frozen=True)
class MessageView:
    headers: tuple[tuple[str, str], ...]
    text: str
    html: str  # sanitised: safe to insert as markup
    attachments: tuple[Attachment, ...]
    links: tuple[Link, ...]
    forwarded: bool  # the view is of the message forwarded inside the report


def sanitise(html: str) -> str:
    return nh3.clean(
        html[:MAX_HTML_CHARS],
        tags=SAFE_TAGS,
        attributes={"a": set(), "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )


def _view(message: ParsedMessage, forwarded: bool) -> MessageView:
    wanted = [(k, v) for k, v in message.headers if k in SHOWN_HEADERS]
    return MessageView(
        headers=tuple(wanted),
        text=message.text[:MAX_HTML_CHARS],
        html=sanitise(message.html) if message.html else "",
        attachments=message.attachments,
        links=extract_links(message),
        forwarded=forwarded,
    )


def message_view(raw: bytes, name: str = "report.eml") -> MessageView:
    """The view of the message a report is about (the forwarded one when there is one)."""
    message = parse_message(raw, Source(name))
    if message.forwarded:
        return _view(message.forwarded[0], True)
    return _view(message, False)
