"""Reading emails: .eml files, mbox files, folders of them; bounded and never executing.

``parse_message(raw, source)`` builds a :class:`~tocsin.phishing.message.ParsedMessage`
with Python's email package (policy ``default``), under :class:`Limits`: a message over
``max_message_bytes`` or nested deeper than ``max_depth`` is refused with a
:class:`MessageError` naming it; parts past ``max_parts``, bodies past ``max_body_chars``
and attachments past ``max_attachment_bytes`` are cut and said so in ``problems``. A header
that cannot be decoded is kept raw. Forwarded messages (``message/rfc822`` parts, the way
staff report a suspicious email) are parsed too, into ``forwarded``.
``iter_sources(paths)`` yields (Source, bytes) for files, mbox files and folders, streaming
mbox files message by message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

from tocsin.errors import InputError, Location
from tocsin.phishing.message import Address, Attachment, ParsedMessage
from tocsin.phishing.model import Source


class MessageError(InputError):
    """A message Tocsin refuses to analyse (too big, too deep, not a message)."""


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 30 * 1024 * 1024
    max_depth: int = 8  # nested multiparts and forwarded messages
    max_parts: int = 300
    max_body_chars: int = 2_000_000
    max_attachment_bytes: int = 20 * 1024 * 1024
    max_headers: int = 1000


LIMITS = Limits()
_MBOX_FROM = re.compile(rb"^From \S*.*$")
_UNFOLD = re.compile(r"\r?\n[ \t]+")


def _text(value: object) -> str:
    """A header value decoded (RFC 2047 encoded words, any charset), never raising."""
    try:
        text = value if isinstance(value, str) else str(value)  # a Header of raw 8-bit text
    except (LookupError, ValueError, UnicodeError):
        text = repr(value)
    if "=?" not in text:
        return _UNFOLD.sub(" ", text)
    try:
        decoded = "".join(
            part.decode(charset or "utf-8", "replace") if isinstance(part, bytes) else part
            for part, charset in decode_header(text)
        )
    except (LookupError, ValueError, AssertionError, HeaderParseError):  # bad charset/encoding
        decoded = text
    return _UNFOLD.sub(" ", decoded)


_ONE_MAILBOX = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<address>[^<>\s]+@[^<>\s]+)>\s*$", re.S)


def _mailbox(value: str) -> Address | None:
    """``Name <address>`` read whole, whatever the name holds (commas, stray quotes): phishing
    From headers often break the address-list grammar (``Microsoft account team ,_<x@y>``)."""
    match = _ONE_MAILBOX.match(value)
    if match is None:
        return None
    name = " ".join(match.group("name").replace('"', " ").split()).strip(" ,_;")
    return Address(name, match.group("address").strip())


def _addresses(message: Message, name: str) -> tuple[Address, ...]:
    values = message.get_all(name) or []
    if name in ("From", "Sender") and len(values) == 1:
        whole = _mailbox(_text(values[0]))
        if whole is not None:
            return (whole,)
    found: list[Address] = []
    try:
        pairs = getaddresses([_text(v) for v in values])
    except (ValueError, IndexError, TypeError):  # malformed header
        pairs = []
    orphans: list[str] = []  # "Team ,_<x@y>": an unquoted comma splits the display name
    for display, address in pairs:
        if "@" not in address:
            orphans.extend(t for t in (display.strip(), address.strip()) if t)
            continue
        name = " ".join([*orphans, _text(display).strip()]).strip(" ,_")
        found.append(Address(name, address.strip()))
        orphans = []
    if orphans and not found:
        found.append(Address(" ".join(orphans), ""))
    return tuple(found[:50])


def _headers(message: Message, limits: Limits) -> tuple[tuple[str, str], ...]:
    items: list[tuple[str, str]] = []
    for key, value in message.items()[: limits.max_headers]:
        items.append((key.lower(), _text(value)))
    return tuple(items)


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken transfer encoding: take the raw text
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _encoded_message(children: object, encoding: str) -> bytes:
    """The bytes of a forwarded message its client encoded (the parser saw the encoded text
    as the body of a message without headers)."""
    if isinstance(children, list):
        first = children[0] if children else None
        text = first.get_payload() if isinstance(first, Message) else ""
    else:
        text = children
    raw = text.encode("ascii", "replace") if isinstance(text, str) else b""
    try:
        if encoding == "base64":
            return base64.b64decode(raw, validate=False)
        if encoding == "quoted-printable":
            return quopri.decodestring(raw)
    except (ValueError, binascii.Error):
        return b""
    return raw


def _decode(part: Message, data: bytes) -> str:
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:  # unknown charset name
        return data.decode("latin-1")


class _Walker:
    """Collects bodies and attachments of one message, bounded by the limits."""

    def __init__(self, source: Source, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.parts = 0
        self.text: list[str] = []
        self.html: list[str] = []
        self.chars = 0
        self.attachments: list[Attachment] = []
        self.forwarded: list[ParsedMessage] = []
        self.problems: list[str] = []

    def walk(self, part: Message, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise MessageError(
                f"nested deeper than {self.limits.max_depth} levels", Location(str(self.source))
            )
        self.parts += 1
        if self.parts > self.limits.max_parts:
            if self.parts == self.limits.max_parts + 1:
                self.problems.append(f"more than {self.limits.max_parts} parts: the rest skipped")
            return
        if part.get_content_type() == "message/rfc822":
            self._forwarded(part, depth)
        elif isinstance(part.get_payload(), list):
            for child in part.get_payload():
                if isinstance(child, Message):
                    self.walk(child, depth + 1)
        else:
            self._leaf(part, depth)

    def _forwarded(self, part: Message, depth: int) -> None:
        """A message forwarded as an attachment: parsed as it is, or decoded first when a
        client encoded it (base64 message/rfc822 is against the RFC but seen)."""
        children = part.get_payload()
        encoding = _text(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if isinstance(children, list) and encoding not in ("base64", "quoted-printable"):
            inner = children[0] if children and isinstance(children[0], Message) else None
        else:
            data = _encoded_message(children, encoding)[: self.limits.max_message_bytes]
            inner = BytesParser(policy=policy.compat32).parsebytes(data) if data.strip() else None
        if inner is not None:
            self.forwarded.append(_build(inner, self.source, self.limits, depth + 1))

    def _outlook(self, data: bytes, filename: str, depth: int) -> None:
        """A message forwarded as an Outlook .msg attachment: parsed when the optional
        extra is installed; otherwise kept as an attachment only, and said so."""
        try:
            inner = msg_to_eml(data[: self.limits.max_message_bytes], str(self.source))
        except MessageError as exc:
            self.problems.append(f"{filename or 'attachment'}: {exc.message}")
            return
        parsed = BytesParser(policy=policy.compat32).parsebytes(inner)
        self.forwarded.append(_build(parsed, self.source, self.limits, depth + 1))

    def _body(self, target: list[str], text: str) -> None:
        room = self.limits.max_body_chars - self.chars
        if room <= 0:
            return
        if len(text) > room:
            self.problems.append(f"bodies cut at {self.limits.max_body_chars} characters")
        target.append(text[:room])
        self.chars += min(len(text), room)

    def _leaf(self, part: Message, depth: int) -> None:
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        try:
            filename = _text(part.get_filename() or "")
        except (ValueError, IndexError, TypeError, LookupError):
            filename = "(undecodable name)"
        data = _payload(part)
        if data.startswith(OLE_MAGIC) and (
            filename.lower().endswith(".msg") or content_type == "application/vnd.ms-outlook"
        ):
            self._outlook(data, filename, depth)
        if not filename and disposition != "attachment" and content_type == "text/plain":
            self._body(self.text, _decode(part, data))
        elif not filename and disposition != "attachment" and content_type == "text/html":
            self._body(self.html, _decode(part, data))
        else:
            cut = len(data) > self.limits.max_attachment_bytes
            if cut:
                self.problems.append(f"attachment {filename!r} cut at the size limit")
            self.attachments.append(
                Attachment(
                    filename=filename,
                    content_type=content_type,
                    data=data[: self.limits.max_attachment_bytes],
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    truncated=cut,
                    inline=disposition == "inline",
                )
            )


def _return_path(message: Message) -> str:
    value = _text(message.get("Return-Path", "")).strip().strip("<>").strip()
    return value


def _build(message: Message, source: Source, limits: Limits, depth: int) -> ParsedMessage:
    walker = _Walker(source, limits)
    walker.walk(message, depth)
    return ParsedMessage(
        source=source,
        headers=_headers(message, limits),
        subject=_text(message.get("Subject", "")).strip(),
        from_=_addresses(message, "From"),
        reply_to=_addresses(message, "Reply-To"),
        return_path=_return_path(message),
        sender=_addresses(message, "Sender"),
        to=_addresses(message, "To"),
        text="\n".join(walker.text),
        html="\n".join(walker.html),
        attachments=tuple(walker.attachments),
        forwarded=tuple(walker.forwarded),
        problems=tuple(walker.problems),
    )


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Outlook .msg files are OLE compound files


def msg_to_eml(data: bytes, where: str) -> bytes:
    """An Outlook ``.msg`` file as RFC 5322 bytes, through the optional ``msg`` extra
    (extract-msg, GPL: not installed with Tocsin unless asked for)."""
    try:
        import extract_msg  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise MessageError(
            "an Outlook .msg file: install the optional extra to read it "
            "(pip install 'tocsin[msg]', extract-msg, GPL licence)",
            Location(where),
        ) from None
    try:
        with extract_msg.openMsg(data) as message:
            converted = message.asEmailMessage().as_bytes()
    except Exception as exc:  # noqa: BLE001 - any failure of the library is a bad file
        raise MessageError(f"unreadable .msg file: {type(exc).__name__}", Location(where)) from exc
    return bytes(converted)


def parse_message(raw: bytes, source: Source, limits: Limits = LIMITS) -> ParsedMessage:
    """The message in ``raw`` (module docstring); MessageError when it is refused. An
    Outlook ``.msg`` file is converted first (optional ``msg`` extra)."""
    if raw.startswith(OLE_MAGIC) and len(raw) <= limits.max_message_bytes:
        raw = msg_to_eml(raw, str(source))
    if len(raw) > limits.max_message_bytes:
        raise MessageError(
            f"message of {len(raw):,} bytes, over the {limits.max_message_bytes:,} limit",
            Location(str(source)),
        )
    if not raw.strip():
        raise MessageError("empty message", Location(str(source)))
    # compat32: lenient with the malformed headers of real mail, and several times faster
    # than ``policy.default``; headers are decoded by ``_text``.
    message = BytesParser(policy=policy.compat32).parsebytes(raw)
    parsed = _build(message, source, limits, 0)
    return _with_size(parsed, len(raw))


def _with_size(parsed: ParsedMessage, size: int) -> ParsedMessage:
    from dataclasses import replace

    return replace(parsed, size=size)


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(5)
    return head == b"From "


def iter_mbox(path: Path, limits: Limits = LIMITS) -> Iterator[tuple[Source, bytes]]:
    """The messages of an mbox file, streamed; an oversized one is yielded cut (and then
    refused by :func:`parse_message`)."""
    index = -1
    buffer = bytearray()
    with path.open("rb") as handle:
        for line in handle:
            if _MBOX_FROM.match(line):
                if index >= 0:
                    yield Source(str(path), index), bytes(buffer)
                index += 1
                buffer.clear()
                continue
            if len(buffer) <= limits.max_message_bytes:
                buffer += line[1:] if line.startswith(b">From ") else line
    if index >= 0:
        yield Source(str(path), index), bytes(buffer)


def iter_sources(paths: Iterable[Path], limits: Limits = LIMITS) -> Iterator[tuple[Source, bytes]]:
    """(Source, raw bytes) of every message under ``paths`` (files, mbox files, folders)."""
    for path in paths:
        if not path.exists():
            raise InputError("no such file or folder", Location(str(path)))
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if _is_mbox(file):
                yield from iter_mbox(file, limits)
                continue
            size = file.stat().st_size
            if size > limits.max_message_bytes:
                raise MessageError(
                    f"file of {size:,} bytes, over the {limits.max_message_bytes:,} limit",
                    Location(str(file)),
                )
            yield Source(str(file)), file.read_bytes()


__all__ = [
    "LIMITS",
    "Limits",
    "MessageError",
    "iter_mbox",
    "iter_sources",
    "parse_message",
]
