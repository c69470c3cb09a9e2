"""What an analysis says: reasons with points and evidence, indicators, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    PHISHING = "phishing"
    SUSPICIOUS = "suspicious"
    LEGITIMATE = "legitimate"


@dataclass(frozen=True)
class Reason:
    """One sign found by a check: a stable code, its points (negative ones reassure), and
    the detail a person can check (the header, URL, attachment or phrase)."""

    code: str  # "links.ip-host", "auth.dmarc-fail"… (docs/phishing-reasons.md)
    points: int
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "points": self.points, "detail": self.detail}


@dataclass
class Indicators:
    """What to block and share: senders, domains, URLs, IPs, attachment hashes."""

    urls: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)  # SHA-256 of attachments
    senders: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "urls": sorted(self.urls),
            "domains": sorted(self.domains),
            "ips": sorted(self.ips),
            "hashes": sorted(self.hashes),
            "senders": sorted(self.senders),
        }


@dataclass(frozen=True)
class Source:
    """Where a message came from: a file, and its position inside an mbox (from 0)."""

    file: str
    index: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "index": self.index}

    def __str__(self) -> str:
        return self.file if self.index is None else f"{self.file}[{self.index}]"
