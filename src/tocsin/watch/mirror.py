"""Mirrors of the feeds, for hospitals whose watch server has no Internet access.

On a connected machine, :func:`mirror` (``tocsin watch mirror DIR``) downloads every
configured feed in full into a folder; the folder is carried over; on the isolated network,
:func:`read_mirror` (``tocsin watch update --from DIR``) gives the documents back to the
same parsers as a live update.

Layout::

    DIR/manifest.json
    DIR/<kind>/<feed name>/000001-<name from the URL>.gz
    DIR/<kind>/<feed name>/000002-…

Each document is stored gzip-compressed (a document that already is gzip, such as the EPSS
file, is stored as fetched). ``manifest.json`` lists, per feed, its kind, URL, status, when
it was fetched and, per file, the URL it came from, its SHA-256, size, encoding and HTTP
validators. :func:`read_mirror` checks every file against the manifest before it yields
anything: a tampered, truncated or missing file is an :class:`~tocsin.errors.InputError`
naming the file.

A mirror is written into a temporary folder beside ``DIR`` and swapped in only when
complete, so an interrupted mirror leaves the previous one as it was. A feed that cannot be
fetched keeps its copy from the previous mirror (status ``kept``, with its old date), or
is listed as ``failed``; the other feeds are still refreshed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import secrets
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tocsin import __version__
from tocsin.errors import InputError, Location, SourceUnavailableError, UsageError
from tocsin.watch.feeds import Feed, plan
from tocsin.watch.fetch import FeedState, FetchClient, FetchedDocument
from tocsin.watch.sources.base import MAX_DOCUMENT_BYTES, Document
from tocsin.watch.sources.csaf_tree import json_path

MANIFEST = "manifest.json"
FORMAT = "tocsin-mirror"
VERSION = 1
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,129}")

Status = Literal["fetched", "kept", "failed"]
Progress = Callable[[str, int], None]  # (feed name, documents written so far)


# --- the manifest --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MirrorFile(_Model):
    path: str = Field(min_length=1, max_length=1024)
    url: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    encoding: Literal["gzip", "identity"]
    etag: str | None = None
    last_modified: str | None = None


class MirrorFeed(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,129}$")
    kind: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    url: str | None = None
    status: Status
    fetched_at: datetime | None = None
    error: str | None = None
    files: tuple[MirrorFile, ...] = ()


class Manifest(_Model):
    format: Literal["tocsin-mirror"]
    version: Literal[1]
    created_at: datetime
    tocsin_version: str
    feeds: tuple[MirrorFeed, ...]


@dataclass(frozen=True)
class MirrorReport:
    """What a mirror run did, feed by feed."""

    dest: Path
    created_at: datetime
    feeds: tuple[MirrorFeed, ...]

    @property
    def failed(self) -> tuple[MirrorFeed, ...]:
        """Feeds not refreshed this time (kept from the previous mirror, or missing)."""
        return tuple(feed for feed in self.feeds if feed.status != "fetched")

    @property
    def documents(self) -> int:
        return sum(len(feed.files) for feed in self.feeds)


# --- writing -----------------------------------------------------------------------------------


def mirror(
    feeds: Iterable[Feed],
    client: FetchClient,
    dest: Path,
    progress: Progress | None = None,
    *,
    now: Callable[[], datetime] | None = None,
) -> MirrorReport:
    """Download every feed in full into ``dest``, replacing the previous mirror at the end."""
    clock = now or (lambda: datetime.now(UTC))
    previous = _previous_manifest(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        created = clock()
        entries = tuple(
            _mirror_feed(feed, client, staging, dest, previous, progress, clock) for feed in feeds
        )
        manifest = Manifest(
            format=FORMAT,
            version=VERSION,
            created_at=created,
            tocsin_version=__version__,
            feeds=entries,
        )
        _write_atomic(staging / MANIFEST, manifest.model_dump_json(indent=1).encode("utf-8"))
        _swap(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return MirrorReport(dest, created, entries)


def _mirror_feed(
    feed: Feed,
    client: FetchClient,
    staging: Path,
    dest: Path,
    previous: Manifest | None,
    progress: Progress | None,
    clock: Callable[[], datetime],
) -> MirrorFeed:
    if not (_SAFE_NAME.fullmatch(feed.name) and _SAFE_NAME.fullmatch(feed.kind)):
        raise UsageError(f"feed name or kind unfit for a folder name: {feed.name!r}")
    folder = staging / feed.kind / feed.name
    folder.mkdir(parents=True)
    started = clock()
    files: list[MirrorFile] = []
    try:
        for index, document in enumerate(plan(feed, client, FeedState(), now=started), start=1):
            files.append(_write_document(staging, folder, index, document))
            if progress is not None:
                progress(feed.name, index)
    except SourceUnavailableError as exc:
        shutil.rmtree(folder)
        return _carry_over(feed, staging, dest, previous, str(exc))
    return MirrorFeed(
        name=feed.name,
        kind=feed.kind,
        url=feed.url,
        status="fetched",
        fetched_at=started,
        files=tuple(files),
    )


def _file_name(index: int, url: str) -> str:
    """``000001-<last two parts of the URL path>``, reduced to safe characters."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    parts = [part for part in path.split("/")[3:] if part]
    slug = _UNSAFE.sub("_", "-".join(parts[-2:]))[-100:].strip("._-") or "document"
    return f"{index:06d}-{slug}"


def _write_document(
    staging: Path, folder: Path, index: int, document: FetchedDocument
) -> MirrorFile:
    name = _file_name(index, document.url)
    encoding: Literal["gzip", "identity"]
    if document.raw.startswith(_GZIP_MAGIC):
        data, encoding = document.raw, "identity"
        name = name if name.endswith(".gz") else f"{name}.gz"
    else:
        data, encoding = gzip.compress(document.raw, compresslevel=6, mtime=0), "gzip"
        name = f"{name}.gz"
    target = folder / name
    target.write_bytes(data)
    return MirrorFile(
        path=target.relative_to(staging).as_posix(),
        url=document.url,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        encoding=encoding,
        etag=document.state.etag,
        last_modified=document.state.last_modified,
    )


def _carry_over(
    feed: Feed, staging: Path, dest: Path, previous: Manifest | None, error: str
) -> MirrorFeed:
    """The previous mirror's copy of a feed that failed now, checked and copied over."""
    old = next(
        (entry for entry in (previous.feeds if previous else ()) if entry.name == feed.name),
        None,
    )
    failed = MirrorFeed(name=feed.name, kind=feed.kind, url=feed.url, status="failed", error=error)
    if old is None or old.kind != feed.kind or old.status == "failed":
        return failed
    try:
        for item in old.files:
            source = _checked_path(dest, item, old)
            _verify(source, item)
            target = staging / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    except InputError:
        shutil.rmtree(staging / feed.kind / feed.name, ignore_errors=True)
        return failed
    return old.model_copy(update={"status": "kept", "error": error})


def _previous_manifest(dest: Path) -> Manifest | None:
    """The manifest of the mirror at ``dest``; refuses to replace a folder that is not one."""
    if not dest.exists():
        return None
    if not dest.is_dir():
        raise UsageError("not a folder; refusing to replace it", Location(str(dest)))
    if not (dest / MANIFEST).is_file():
        if any(dest.iterdir()):
            raise UsageError("not a Tocsin mirror; refusing to replace it", Location(str(dest)))
        return None
    try:
        return read_manifest(dest)
    except InputError as exc:
        reason = f"not a readable Tocsin mirror ({exc.message}); refusing to replace it"
        raise UsageError(reason, Location(str(dest))) from exc


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _swap(staging: Path, dest: Path) -> None:
    """Put ``staging`` in place of ``dest``, restoring ``dest`` if the second rename fails."""
    if not dest.exists():
        staging.rename(dest)
        return
    retired = dest.parent / f".{dest.name}.old-{secrets.token_hex(4)}"
    dest.rename(retired)
    try:
        staging.rename(dest)
    except BaseException:
        retired.rename(dest)
        raise
    shutil.rmtree(retired, ignore_errors=True)


# --- reading -----------------------------------------------------------------------------------


def read_manifest(directory: Path) -> Manifest:
    """The manifest of a mirror; InputError if it is missing or malformed."""
    path = directory / MANIFEST
    origin = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise InputError(f"not a Tocsin mirror: {exc.strerror}", Location(origin)) from exc
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InputError("manifest over the size limit", Location(origin))
    try:
        data = json.loads(raw)
        return Manifest.model_validate(data)
    except RecursionError as exc:
        raise InputError("manifest nested too deeply", Location(origin)) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors(include_url=False, include_input=False)[0]
            where = Location(origin, field=json_path(first["loc"]) or None)
            raise InputError(f"invalid mirror manifest: {first['msg']}", where) from exc
        raise InputError(f"manifest is not JSON: {type(exc).__name__}", Location(origin)) from exc


def _checked_path(directory: Path, item: MirrorFile, feed: MirrorFeed) -> Path:
    """The file an entry names, refused unless it is inside the feed's own folder."""
    relative = PurePosixPath(item.path)
    folder = PurePosixPath(feed.kind, feed.name)
    if relative.is_absolute() or ".." in relative.parts or relative.parent != folder:
        raise InputError("file outside its feed's folder", Location(item.path))
    path = directory.joinpath(*relative.parts)
    if path.is_symlink() or not path.resolve().is_relative_to(directory.resolve()):
        raise InputError("file outside the mirror", Location(str(path)))
    return path


def _verify(path: Path, item: MirrorFile) -> None:
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            size = handle.tell()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", Location(str(path))) from exc
    if size != item.size or digest != item.sha256:
        raise InputError(
            "does not match the mirror manifest (tampered or truncated)", Location(str(path))
        )


def verify_mirror(directory: Path) -> Manifest:
    """The manifest, once every file it lists was checked against its SHA-256."""
    manifest = read_manifest(directory)
    for feed in manifest.feeds:
        for item in feed.files:
            _verify(_checked_path(directory, item, feed), item)
    return manifest


def _load(path: Path, item: MirrorFile) -> bytes:
    data = path.read_bytes()
    if len(data) != item.size or hashlib.sha256(data).hexdigest() != item.sha256:
        raise InputError("changed while it was being read", Location(str(path)))
    if item.encoding == "identity":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            raw = stream.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"damaged gzip data: {exc}", Location(str(path))) from exc
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputError("document over the size limit", Location(str(path)))
    return raw


def read_mirror(directory: Path) -> Iterator[tuple[str, str, Document]]:
    """``(feed name, kind, document)`` for every file of a mirror, feed after feed.

    The whole mirror is checked first, so nothing is yielded from a damaged one. A
    document's origin is its file in the mirror; :func:`read_manifest` gives the URLs.
    """
    manifest = verify_mirror(directory)
    for feed in manifest.feeds:
        for item in feed.files:
            path = _checked_path(directory, item, feed)
            yield feed.name, feed.kind, Document(str(path), _load(path, item))
