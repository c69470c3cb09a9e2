"""Where CSAF documents are: trusted providers as data, their metadata and ROLIE feeds.

Providers are listed in ``tocsin/data/csaf_providers.toml`` (one CSAF adapter, providers as
data). Each names its ``provider-metadata.json`` (CSAF 2.0 section 7.1.20), which lists the
provider's distributions: ROLIE feeds per TLP label (section 7.1.21, RFC 8322) and
directories. A ROLIE feed lists the documents with their hash and signature files.
Everything here is pure: bytes in, URLs out, for the fetch path and the offline mirror.
Only ``https`` URLs are kept (the standard requires TLS; it also keeps a hostile feed from
pointing the fetcher at ``file:`` or other schemes).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from tocsin.data import data_path
from tocsin.errors import ConfigError, InputError, Location
from tocsin.watch.sources.base import ParseReport
from tocsin.watch.sources.csaf_tree import json_path, skip_invalid

MAX_FEED_ENTRIES = 200_000
DEFAULT_TLP = ("CLEAR", "WHITE")
_HTTPS = r"^https://[^\s]+$"


# --- providers as data -------------------------------------------------------------------


@dataclass(frozen=True)
class CsafProvider:
    """A CSAF trusted provider Tocsin reads, and the TLP labels of the feeds it takes."""

    name: str
    title: str
    metadata_url: str
    tlp: tuple[str, ...] = DEFAULT_TLP
    enabled: bool = True


class _ProviderEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    title: StrictStr = Field(min_length=1)
    metadata_url: StrictStr = Field(pattern=r"^https://[^\s]+/provider-metadata\.json$")
    tlp: list[StrictStr] = list(DEFAULT_TLP)
    enabled: StrictBool = True


class _ProvidersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: list[_ProviderEntry] = []


def load_providers(text: str, origin: str) -> tuple[CsafProvider, ...]:
    """Providers from TOML text (``[[provider]]`` tables); unknown keys are refused."""
    try:
        data = tomllib.loads(text)
        parsed = _ProvidersFile.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", Location(origin)) from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = Location(origin, field=json_path(first["loc"]))
        raise ConfigError(f"invalid CSAF provider: {first['msg']}", where) from exc
    seen: set[str] = set()
    out: list[CsafProvider] = []
    for entry in parsed.provider:
        if entry.name in seen:
            raise ConfigError(f"CSAF provider {entry.name!r} is listed twice", Location(origin))
        seen.add(entry.name)
        tlp = tuple(label.upper() for label in entry.tlp)
        out.append(CsafProvider(entry.name, entry.title, entry.metadata_url, tlp, entry.enabled))
    return tuple(out)


def bundled_providers() -> tuple[CsafProvider, ...]:
    """The providers shipped with Tocsin (``tocsin/data/csaf_providers.toml``)."""
    resource = data_path("csaf_providers.toml")
    return load_providers(resource.read_text(encoding="utf-8"), "csaf_providers.toml")


# --- provider-metadata.json (CSAF 2.0 section 7.1.20) -------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Publisher(_Model):
    name: StrictStr
    namespace: StrictStr = ""
    category: StrictStr = ""


class _FeedRef(_Model):
    url: StrictStr = Field(pattern=_HTTPS)
    tlp_label: StrictStr
    summary: StrictStr = ""


class _Rolie(_Model):
    feeds: list[_FeedRef]


class _Distribution(_Model):
    directory_url: StrictStr | None = Field(default=None, pattern=_HTTPS)
    rolie: _Rolie | None = None


class _Metadata(_Model):
    canonical_url: StrictStr = Field(pattern=_HTTPS)
    metadata_version: StrictStr
    last_updated: datetime
    publisher: _Publisher
    role: StrictStr
    distributions: list[_Distribution] = []


@dataclass(frozen=True)
class RolieFeedRef:
    """One ROLIE feed a provider lists: its URL and the TLP label of its documents."""

    url: str
    tlp: str
    summary: str = ""


@dataclass(frozen=True)
class ProviderMetadata:
    """What a provider-metadata.json says: who publishes, and where the documents are."""

    canonical_url: str
    publisher: str
    role: str
    last_updated: datetime
    feeds: tuple[RolieFeedRef, ...] = ()
    directories: tuple[str, ...] = ()

    def feed_urls(self, tlp: Iterable[str] = DEFAULT_TLP) -> tuple[str, ...]:
        """The URLs of the feeds whose TLP label is one of ``tlp``."""
        wanted = {label.upper() for label in tlp}
        return tuple(dict.fromkeys(feed.url for feed in self.feeds if feed.tlp in wanted))


def _json(raw: bytes, origin: str) -> object:
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", Location(origin)) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not JSON: {type(exc).__name__}", Location(origin)) from exc


def parse_provider_metadata(raw: bytes, origin: str) -> ProviderMetadata:
    """A provider-metadata.json into its feeds and directories; InputError if malformed."""
    try:
        meta = _Metadata.model_validate(_json(raw, origin))
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = Location(origin, field=json_path(first["loc"]))
        raise InputError(f"invalid provider metadata: {first['msg']}", where) from exc
    if not meta.metadata_version.startswith("2."):
        where = Location(origin, field="metadata_version")
        raise InputError("unsupported provider metadata version", where)
    feeds = tuple(
        RolieFeedRef(feed.url, feed.tlp_label.upper(), feed.summary)
        for dist in meta.distributions
        if dist.rolie is not None
        for feed in dist.rolie.feeds
    )
    directories = tuple(d.directory_url for d in meta.distributions if d.directory_url)
    return ProviderMetadata(
        canonical_url=meta.canonical_url,
        publisher=meta.publisher.name,
        role=meta.role,
        last_updated=meta.last_updated,
        feeds=tuple(dict.fromkeys(feeds)),
        directories=tuple(dict.fromkeys(directories)),
    )


# --- ROLIE feeds (CSAF 2.0 section 7.1.21) ---------------------------------------------------


class _Link(_Model):
    href: StrictStr
    rel: StrictStr | None = None
    ref: StrictStr | None = None  # CISA's IT feed writes "ref" where RFC 4287 says "rel"

    @property
    def relation(self) -> str:
        return self.rel or self.ref or "alternate"


class _Content(_Model):
    src: StrictStr
    type: StrictStr = ""


class _Entry(_Model):
    id: StrictStr = Field(min_length=1)
    title: StrictStr = ""
    link: list[_Link] = []
    published: datetime | None = None
    updated: datetime | None = None
    content: _Content | None = None


class _FeedBody(_Model):
    id: StrictStr = ""
    entry: list[object] = []


class _Feed(_Model):
    feed: _FeedBody


@dataclass(frozen=True)
class RolieEntry:
    """One CSAF document a ROLIE feed lists."""

    id: str
    url: str
    title: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    hash_url: str | None = None
    signature_url: str | None = None


def parse_rolie_feed(raw: bytes, origin: str, report: ParseReport) -> tuple[RolieEntry, ...]:
    """The documents a ROLIE feed lists, in feed order.

    A malformed feed raises InputError; a malformed entry, or one without an https
    document URL, is counted in ``report`` and left out.
    """
    try:
        feed = _Feed.model_validate(_json(raw, origin)).feed
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = Location(origin, field=json_path(first["loc"]))
        raise InputError(f"not a ROLIE feed: {first['msg']}", where) from exc
    if len(feed.entry) > MAX_FEED_ENTRIES:
        raise InputError(f"feed over {MAX_FEED_ENTRIES:,} entries", Location(origin))
    out: list[RolieEntry] = []
    for index, item in enumerate(feed.entry):
        path = f"feed.entry[{index}]"
        try:
            entry = _Entry.model_validate(item)
        except ValidationError as exc:
            skip_invalid(report, origin, path, exc, "malformed feed entry")
            continue
        found = _rolie_entry(entry)
        if found is None:
            report.skip(Location(origin, field=path), "entry without an https document URL")
            continue
        out.append(found)
    return tuple(out)


def _rolie_entry(entry: _Entry) -> RolieEntry | None:
    links: dict[str, str] = {}
    for link in entry.link:
        if link.href.startswith("https://"):
            links.setdefault(link.relation, link.href)
    url = entry.content.src if entry.content is not None else links.get("self")
    if url is None or not url.startswith("https://"):
        url = links.get("self")
    if url is None:
        return None
    return RolieEntry(
        id=entry.id,
        url=url,
        title=" ".join(entry.title.split()),
        published=entry.published,
        updated=entry.updated,
        hash_url=links.get("hash"),
        signature_url=links.get("signature"),
    )


def document_urls(entries: Iterable[RolieEntry]) -> tuple[str, ...]:
    """The document URLs of feed entries, each once."""
    return tuple(dict.fromkeys(entry.url for entry in entries))
