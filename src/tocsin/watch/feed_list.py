"""The feed list: which feeds Tocsin fetches, as data.

Feeds are listed as ``[[feed]]`` tables in TOML: the bundled ``tocsin/data/feeds.toml``,
then an optional user file whose entries replace the bundled entry of the same name or add
new ones. A CSAF entry with ``providers`` stands for one feed per provider of a providers
file (``"bundled"``: ``tocsin/data/csaf_providers.toml``), named ``<entry>-<provider>``.
docs/sources.md describes the keys. How each kind is fetched is in
:mod:`tocsin.watch.feed_plans`; :mod:`tocsin.watch.feeds` gathers both.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tocsin.data import data_path
from tocsin.errors import ConfigError, Location
from tocsin.watch.sources.base import sources
from tocsin.watch.sources.csaf_discovery import (
    DEFAULT_TLP,
    CsafProvider,
    bundled_providers,
    load_providers,
)
from tocsin.watch.sources.csaf_tree import json_path

__all__ = [
    "BUNDLED_FEEDS",
    "NVD_API_KEY_ENV",
    "URL_LIST_KINDS",
    "Feed",
    "load_feeds",
    "nvd_api_key",
]

BUNDLED_FEEDS = "feeds.toml"
NVD_API_KEY_ENV = "TOCSIN_NVD_API_KEY"
URL_LIST_KINDS = frozenset({"osv", "cve5"})

_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Url = Annotated[str, Field(pattern=r"^https?://[^\s/]+[^\s]*$", max_length=2048)]


@dataclass(frozen=True)
class Feed:
    """One feed to fetch; ``name`` is unique and names its folder in a mirror."""

    name: str
    kind: str
    url: str | None = None
    title: str = ""
    urls: tuple[str, ...] = ()
    tlp: tuple[str, ...] = DEFAULT_TLP
    api_key_env: str | None = None
    max_bytes: int | None = None
    enabled: bool = True

    @property
    def all_urls(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(([self.url] if self.url else []) + list(self.urls)))


class _FeedEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(pattern=_NAME)
    kind: str
    title: str = ""
    url: Url | None = None
    urls: list[Url] = []
    providers: str | None = Field(default=None, min_length=1)
    tlp: list[str] | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    max_bytes: int | None = Field(default=None, ge=1024)
    enabled: bool = True

    @field_validator("kind")
    @classmethod
    def _registered(cls, value: str) -> str:
        known = sources()
        if value not in known:
            raise ValueError(f"unknown source kind {value!r}; known: {', '.join(sorted(known))}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> _FeedEntry:
        problem = _shape_problem(self)
        if problem is not None:
            raise ValueError(problem)
        return self


def _shape_problem(entry: _FeedEntry) -> str | None:
    """What is wrong with the combination of keys of an entry, if anything."""
    kind = entry.kind
    if entry.providers is not None and kind != "csaf":
        return "providers is only for csaf feeds"
    if entry.tlp is not None and kind != "csaf":
        return "tlp is only for csaf feeds"
    if entry.api_key_env is not None and kind != "nvd":
        return "api_key_env is only for nvd feeds"
    if entry.urls and kind not in URL_LIST_KINDS:
        return f"urls is only for {' and '.join(sorted(URL_LIST_KINDS))} feeds"
    if kind == "csaf":
        if (entry.url is None) == (entry.providers is None):
            return "a csaf feed needs either url (a provider-metadata.json) or providers"
        if entry.url is not None and not entry.url.startswith("https://"):
            return "CSAF requires https"
    elif kind in URL_LIST_KINDS:
        if entry.url is None and not entry.urls:
            return f"a {kind} feed needs url or urls"
    elif entry.url is None:
        return "url is required"
    return None


class _FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feed: list[_FeedEntry] = []


def _read_entries(text: str, origin: str) -> list[_FeedEntry]:
    try:
        parsed = _FeedsFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", Location(origin)) from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = Location(origin, field=json_path(first["loc"]) or None)
        raise ConfigError(f"invalid feed: {first['msg']}", where) from exc
    seen: set[str] = set()
    for index, entry in enumerate(parsed.feed):
        if entry.name in seen:
            where = Location(origin, field=f"feed[{index}].name")
            raise ConfigError(f"feed {entry.name!r} is listed twice", where)
        seen.add(entry.name)
    return parsed.feed


def load_feeds(user_file: Path | None = None, *, enabled_only: bool = True) -> tuple[Feed, ...]:
    """The bundled feeds, overridden and extended by ``user_file``; ConfigError if invalid."""
    bundled = data_path(BUNDLED_FEEDS).read_text(encoding="utf-8")
    entries: dict[str, tuple[_FeedEntry, Path | None]] = {
        entry.name: (entry, None) for entry in _read_entries(bundled, BUNDLED_FEEDS)
    }
    if user_file is not None:
        text = _read_text(user_file, "the feeds file")
        for entry in _read_entries(text, str(user_file)):
            entries[entry.name] = (entry, user_file.parent)
    feeds: dict[str, Feed] = {}
    for entry, base in entries.values():
        for feed in _resolve(entry, base):
            if feed.name in feeds:
                raise ConfigError(f"two feeds are named {feed.name!r}", Location(field="name"))
            feeds[feed.name] = feed
    return tuple(feed for feed in feeds.values() if feed.enabled or not enabled_only)


def _resolve(entry: _FeedEntry, base: Path | None) -> list[Feed]:
    tlp = tuple(label.upper() for label in entry.tlp or ())
    feed = Feed(
        name=entry.name,
        kind=entry.kind,
        url=entry.url,
        title=entry.title,
        urls=tuple(entry.urls),
        tlp=tlp or DEFAULT_TLP,
        api_key_env=entry.api_key_env,
        max_bytes=entry.max_bytes,
        enabled=entry.enabled,
    )
    if entry.providers is None:
        return [feed]
    return [
        replace(
            feed,
            name=f"{entry.name}-{provider.name}",
            url=provider.metadata_url,
            title=provider.title,
            tlp=tlp or provider.tlp,
            enabled=entry.enabled and provider.enabled,
        )
        for provider in _providers(entry.providers, base)
    ]


def _providers(spec: str, base: Path | None) -> tuple[CsafProvider, ...]:
    if spec == "bundled":
        return bundled_providers()
    path = Path(spec).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return load_providers(_read_text(path, "the CSAF providers"), str(path))


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", Location(str(path))) from exc


def nvd_api_key(feed: Feed, environ: Mapping[str, str]) -> str | None:
    """The NVD API key from ``$TOCSIN_NVD_API_KEY`` (or the feed's ``api_key_env``), or
    from the file named by the same variable with ``_FILE`` appended; None without one."""
    variable = feed.api_key_env or NVD_API_KEY_ENV
    value = environ.get(variable, "").strip()
    if value:
        return value
    path = environ.get(f"{variable}_FILE")
    if not path:
        return None
    return _read_text(Path(path), "the NVD API key file").strip() or None


# --- what a run reads and leaves behind --------------------------------------------------------
