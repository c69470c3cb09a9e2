"""File-share activity → ransomware alerts: the pure decision logic of ``tocsin detect watch``.

:class:`ShareWatcher` takes :class:`FileEvent` s (created, modified, deleted, moved, with the
first KB of a written file when the adapter could read it) and returns :class:`WatchAlert` s.
It never touches the disk: :mod:`.watcher_fs` feeds it from ``watchdog``.

What it looks for, within a sliding window (:class:`WatchPolicy` holds every threshold):

- a canary path touched in any way → critical, at once;
- a file renamed or written under a known ransomware extension (``.lockbit``…) → critical;
- many files moved to one new, non-document extension (``a.docx`` → ``a.docx.locked``, or a
  new ``a.docx.locked`` beside a deleted ``a.docx``) → critical;
- documents rewritten so that their first KB no longer looks like their type: an Office file
  (a zip) or a PDF that lost its magic bytes, or a text file (CSV, TXT…) whose Shannon
  entropy went above what text reaches → critical;
- ransom notes (HOW_TO_DECRYPT…, README… written in several folders) → critical;
- bursts of renames → high; bursts of deletions → medium.

Memory is bounded whatever the activity: each window keeps at most ``max_events`` entries
and old entries leave as time passes; per-extension counters are capped.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath

# Extensions a user's documents normally have: moving a file TO one of these is a save or a
# sync tool finishing a temporary file, not an encryption.
DOCUMENT_EXTENSIONS = frozenset(
    ".doc .docx .docm .xls .xlsx .xlsm .ppt .pptx .odt .ods .odp .pdf .rtf .txt .csv .xml "
    ".html .htm .json .jpg .jpeg .png .gif .tif .tiff .bmp .dcm .hl7 .zip .7z .msg .eml .mp4 "
    ".avi .mov .mp3 .wav .vsdx .one .pst .log .md .sql .bak .ini .cfg .conf .dat".split()
)
# Zip-based, PDF and image types: the first bytes are a fixed signature, and their content is
# already compressed (high entropy), so a rewrite is judged by the signature, not by entropy.
MAGIC: dict[str, tuple[bytes, ...]] = {
    **dict.fromkeys(
        (".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".odt", ".ods", ".odp", ".zip", ".vsdx"),
        (b"PK\x03\x04", b"PK\x05\x06"),
    ),
    **dict.fromkeys((".doc", ".xls", ".ppt", ".msg"), (b"\xd0\xcf\x11\xe0",)),
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG",),
    ".gif": (b"GIF8",),
    ".rtf": (b"{\\rtf",),
    ".7z": (b"7z\xbc\xaf",),
}
# Text types: judged by entropy (text stays far below random data's ~7.8 bits/byte on 1 KB).
TEXT_EXTENSIONS = frozenset(".txt .csv .xml .html .htm .json .md .sql .log .ini .cfg .hl7".split())
NOTE_NAME = re.compile(
    r"(how[_\- ]?to[_\- ]?(decrypt|recover|restore)|restore[_\-]?(my[_\-]?)?files|"
    r"decrypt[_\-]?(instructions?|files)|read[_\-]?me|readme|recover[_\-]files|"
    r"your[_\-]files)[^/\\]*\.(txt|html?|hta|rtf)$",
    re.IGNORECASE,
)
TEMPORARY_PREFIXES = (".", "~$", "~")
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".crdownload", ".swp", ".partial")


class EventKind(StrEnum):
    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"
    MOVED = "moved"


@dataclass(frozen=True)
class FileEvent:
    """One file-system change. ``head``: the first KB after a write, when it could be read."""

    time: float  # seconds (any monotonic clock; the windows only compare differences)
    kind: EventKind
    path: str
    dest: str | None = None  # for MOVED
    head: bytes | None = None


class Severity(StrEnum):
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlertKind(StrEnum):
    CANARY = "canary_touched"
    KNOWN_EXTENSION = "known_ransomware_extension"
    EXTENSION_CHANGE = "extension_change_burst"
    ENTROPY = "high_entropy_rewrites"
    RANSOM_NOTE = "ransom_notes"
    RENAMES = "rename_burst"
    DELETIONS = "deletion_burst"


SEVERITY = {
    AlertKind.CANARY: Severity.CRITICAL,
    AlertKind.KNOWN_EXTENSION: Severity.CRITICAL,
    AlertKind.EXTENSION_CHANGE: Severity.CRITICAL,
    AlertKind.ENTROPY: Severity.CRITICAL,
    AlertKind.RANSOM_NOTE: Severity.CRITICAL,
    AlertKind.RENAMES: Severity.HIGH,
    AlertKind.DELETIONS: Severity.MEDIUM,
}


@dataclass(frozen=True)
class WatchPolicy:
    """Every threshold of the watcher (counts are within ``window_seconds``)."""

    window_seconds: float = 60.0
    renames: int = 40  # renames of non-temporary files
    deletions: int = 100
    extension_changes: int = 8  # files moved to one new, non-document extension
    entropy_rewrites: int = 5  # documents rewritten into something that is not their type
    note_folders: int = 3  # folders that received a README/HOW_TO_DECRYPT-like file
    text_entropy_bits: float = 6.0  # bits/byte on the head above which "text" is not text
    binary_entropy_bits: float = 7.0  # a typed file without its magic and above this
    head_bytes: int = 1024
    min_head_bytes: int = 64  # heads shorter than this are not judged
    max_events: int = 10_000  # per window
    max_keys: int = 1_024  # per-extension counters, recent creations
    cooldown_seconds: float = 300.0  # the same alert (kind, key) is raised once per cooldown
    canaries: frozenset[str] = frozenset()
    known_extensions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WatchAlert:
    kind: AlertKind
    severity: Severity
    time: float
    count: int  # how many events of the kind are in the window
    paths: tuple[str, ...]  # a few of them, most recent last
    detail: str

    def summary(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "time": self.time,
            "count": self.count,
            "paths": list(self.paths),
            "detail": self.detail,
        }


def shannon_entropy(data: bytes) -> float:
    """Bits per byte of ``data`` (0 for empty)."""
    if not data:
        return 0.0
    total = len(data)
    return -sum(n / total * math.log2(n / total) for n in Counter(data).values())


def suffix(path: str) -> str:
    return PurePath(path).suffix.lower()


def _name(path: str) -> str:
    return PurePath(path).name


def looks_rewritten(path: str, head: bytes, policy: WatchPolicy) -> str | None:
    """Why this head does not look like a file of its type (None if it does, or unknown)."""
    if len(head) < policy.min_head_bytes:
        return None
    ext = suffix(path)
    if ext not in MAGIC and ext not in TEXT_EXTENSIONS:
        ext = suffix(str(PurePath(path).with_suffix("")))  # a.docx.locked → .docx
    entropy = shannon_entropy(head[: policy.head_bytes])
    magic = MAGIC.get(ext)
    if magic is not None:
        if not head.startswith(magic) and entropy >= policy.binary_entropy_bits:
            return f"{ext} without its signature, entropy {entropy:.2f}"
        return None
    if ext in TEXT_EXTENSIONS and entropy >= policy.text_entropy_bits:
        return f"{ext} with entropy {entropy:.2f} bits/byte"
    return None


def _temporary(path: str) -> bool:
    name = _name(path).lower()
    return name.startswith(TEMPORARY_PREFIXES) or name.endswith(TEMPORARY_SUFFIXES)


@dataclass
class _Window:
    """(time, path) entries younger than the window, at most ``limit`` of them."""

    seconds: float
    limit: int
    entries: deque[tuple[float, str]] = field(default_factory=deque)

    def add(self, when: float, path: str) -> int:
        self.entries.append((when, path))
        while len(self.entries) > self.limit:
            self.entries.popleft()
        self.expire(when)
        return len(self.entries)

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] < now - self.seconds:
            self.entries.popleft()

    def paths(self, count: int = 5) -> tuple[str, ...]:
        return tuple(p for _, p in list(self.entries)[-count:])


class ShareWatcher:
    """Feed :meth:`observe` one event at a time; it returns the alerts the event raises."""

    def __init__(self, policy: WatchPolicy | None = None) -> None:
        self.policy = policy or WatchPolicy()
        p = self.policy
        self._renames = _Window(p.window_seconds, p.max_events)
        self._deletions = _Window(p.window_seconds, p.max_events)
        self._rewrites = _Window(p.window_seconds, p.max_events)
        self._notes = _Window(p.window_seconds, p.max_events)
        self._extensions: OrderedDict[str, _Window] = OrderedDict()
        self._created: OrderedDict[str, float] = OrderedDict()  # recent creations
        self._deleted: OrderedDict[str, float] = OrderedDict()  # recent deletions
        self._judged: OrderedDict[str, float] = OrderedDict()  # rewritten paths already counted
        self._raised: dict[tuple[AlertKind, str], float] = {}
        self.events_seen = 0

    # --- public ----------------------------------------------------------------------------
    def observe(self, event: FileEvent) -> list[WatchAlert]:
        self.events_seen += 1
        alerts: list[WatchAlert] = []
        paths = [event.path] + ([event.dest] if event.dest else [])
        for path in paths:
            if path in self.policy.canaries:
                alerts += self._raise(
                    AlertKind.CANARY, path, event.time, 1, (path,), f"canary {event.kind.value}"
                )
        if event.kind is EventKind.MOVED and event.dest:
            alerts += self._moved(event.time, event.path, event.dest)
        elif event.kind is EventKind.CREATED:
            alerts += self._created_file(event.time, event.path)
        elif event.kind is EventKind.DELETED:
            alerts += self._deleted_file(event.time, event.path)
        if event.head is not None and event.kind in (EventKind.MODIFIED, EventKind.CREATED):
            alerts += self._written(event.time, event.path, event.head)
        return alerts

    # --- rules -----------------------------------------------------------------------------
    def _moved(self, when: float, source: str, dest: str) -> list[WatchAlert]:
        alerts = self._known_extension(when, dest)
        if not _temporary(source):
            count = self._renames.add(when, dest)
            if count >= self.policy.renames:
                alerts += self._raise(
                    AlertKind.RENAMES,
                    "",
                    when,
                    count,
                    self._renames.paths(),
                    f"{count} renames in {self.policy.window_seconds:.0f} s",
                )
        alerts += self._extension_change(when, source, dest)
        return alerts

    def _created_file(self, when: float, path: str) -> list[WatchAlert]:
        alerts = self._known_extension(when, path)
        self._remember(self._created, path, when)
        original = str(PurePath(path).with_suffix(""))
        if original in self._deleted:  # a.docx deleted, then a.docx.locked written
            alerts += self._extension_change(when, original, path)
        if NOTE_NAME.search(_name(path)):
            folder = str(PurePath(path).parent)
            if folder not in {str(PurePath(p).parent) for _, p in self._notes.entries}:
                count = self._notes.add(when, path)
                if count >= self.policy.note_folders:
                    alerts += self._raise(
                        AlertKind.RANSOM_NOTE,
                        _name(path).lower(),
                        when,
                        count,
                        self._notes.paths(),
                        f"notes like {_name(path)} in {count} folders",
                    )
        return alerts

    def _deleted_file(self, when: float, path: str) -> list[WatchAlert]:
        alerts: list[WatchAlert] = []
        self._remember(self._deleted, path, when)
        for created in self._created_with_stem(path):
            alerts += self._extension_change(when, path, created)
        if not _temporary(path):
            count = self._deletions.add(when, path)
            if count >= self.policy.deletions:
                alerts += self._raise(
                    AlertKind.DELETIONS,
                    "",
                    when,
                    count,
                    self._deletions.paths(),
                    f"{count} deletions in {self.policy.window_seconds:.0f} s",
                )
        return alerts

    def _written(self, when: float, path: str, head: bytes) -> list[WatchAlert]:
        reason = looks_rewritten(path, head, self.policy)
        if reason is None or path in self._judged:
            return []
        self._remember(self._judged, path, when)
        count = self._rewrites.add(when, path)
        if count < self.policy.entropy_rewrites:
            return []
        return self._raise(
            AlertKind.ENTROPY,
            "",
            when,
            count,
            self._rewrites.paths(),
            f"{count} documents rewritten into unreadable data (last: {reason})",
        )

    def _known_extension(self, when: float, path: str) -> list[WatchAlert]:
        ext = suffix(path)
        if ext not in self.policy.known_extensions:
            return []
        return self._raise(
            AlertKind.KNOWN_EXTENSION, ext, when, 1, (path,), f"file renamed or written as {ext}"
        )

    def _extension_change(self, when: float, source: str, dest: str) -> list[WatchAlert]:
        new = suffix(dest)
        if not new or new == suffix(source) or new in DOCUMENT_EXTENSIONS or _temporary(dest):
            return []
        window = self._extensions.get(new)
        if window is None:
            window = _Window(self.policy.window_seconds, self.policy.max_events)
            self._extensions[new] = window
            while len(self._extensions) > self.policy.max_keys:
                self._extensions.popitem(last=False)
        self._extensions.move_to_end(new)
        count = window.add(when, dest)
        if count < self.policy.extension_changes:
            return []
        return self._raise(
            AlertKind.EXTENSION_CHANGE,
            new,
            when,
            count,
            window.paths(),
            f"{count} files changed to {new} in {self.policy.window_seconds:.0f} s",
        )

    # --- bookkeeping -----------------------------------------------------------------------
    def _created_with_stem(self, path: str) -> list[str]:
        return [p for p in self._created if str(PurePath(p).with_suffix("")) == path]

    def _remember(self, table: OrderedDict[str, float], path: str, when: float) -> None:
        table[path] = when
        table.move_to_end(path)
        while len(table) > self.policy.max_keys:
            table.popitem(last=False)
        while table and next(iter(table.values())) < when - self.policy.window_seconds:
            table.popitem(last=False)

    def _raise(
        self,
        kind: AlertKind,
        key: str,
        when: float,
        count: int,
        paths: tuple[str, ...],
        detail: str,
    ) -> list[WatchAlert]:
        last = self._raised.get((kind, key))
        if last is not None and when - last < self.policy.cooldown_seconds:
            return []
        self._raised[(kind, key)] = when
        if len(self._raised) > self.policy.max_keys:
            oldest = min(self._raised, key=self._raised.__getitem__)
            del self._raised[oldest]
        return [WatchAlert(kind, SEVERITY[kind], when, count, paths, detail)]
