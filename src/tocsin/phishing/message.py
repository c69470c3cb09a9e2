"""A parsed email as the checks see it: decoded headers, bodies and attachments."""

from __future__ import annotations

from dataclasses import dataclass, field

from tocsin.phishing.model import Source


@dataclass(frozen=True)
class Address:
    """One mailbox of a header: the display name and the address (lower-cased domain)."""

    name: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower() if "@" in self.address else ""


@dataclass(frozen=True)
class Attachment:
    """A part that is not a body: its name, declared type, bytes (cut at the limit)."""

    filename: str
    content_type: str
    data: bytes
    size: int  # decoded size, before any cut
    sha256: str
    truncated: bool = False
    inline: bool = False  # Content-Disposition inline (images of an HTML body…)


@dataclass(frozen=True)
class ParsedMessage:
    source: Source
    headers: tuple[tuple[str, str], ...]  # (name in lower case, decoded value), in order
    subject: str
    from_: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    return_path: str
    sender: tuple[Address, ...]
    to: tuple[Address, ...]
    text: str  # text/plain bodies joined
    html: str  # text/html bodies joined
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ParsedMessage, ...] = ()  # message/rfc822 parts, parsed
    size: int = 0
    problems: tuple[str, ...] = field(default=())  # what the parser had to skip or cut

    def header(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    def first(self, name: str) -> str:
        values = self.header(name)
        return values[0] if values else ""

    @property
    def sender_address(self) -> Address | None:
        return self.from_[0] if self.from_ else None
