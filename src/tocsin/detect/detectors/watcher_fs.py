"""The ``watchdog`` adapter of the file-share watcher: file-system events → :class:`ShareWatcher`.

It only translates: a watchdog event becomes a :class:`FileEvent` (with the first KB of a
file that was just written, read here because the decision module never touches the disk)
and every alert the watcher returns goes to ``on_alert``. Directory events are ignored.
On Linux watchdog uses inotify (a Samba share is watched on the file server itself).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from tocsin.detect.detectors.watcher import (
    EventKind,
    FileEvent,
    ShareWatcher,
    WatchAlert,
    WatchPolicy,
)

AlertSink = Callable[[WatchAlert], None]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: ShareWatcher, on_alert: AlertSink, head_bytes: int) -> None:
        self.watcher = watcher
        self.on_alert = on_alert
        self.head_bytes = head_bytes
        self.lock = threading.Lock()

    def _head(self, path: str) -> bytes | None:
        try:
            with Path(path).open("rb") as stream:
                return stream.read(self.head_bytes)
        except OSError:  # gone or unreadable meanwhile: judged on names only
            return None

    def dispatch(self, event: FileSystemEvent) -> None:
        if isinstance(event, DirCreatedEvent | DirDeletedEvent | DirModifiedEvent | DirMovedEvent):
            return
        src = _text(event.src_path)
        now = time.monotonic()
        found: FileEvent | None = None
        if isinstance(event, FileMovedEvent):
            found = FileEvent(now, EventKind.MOVED, src, _text(event.dest_path))
        elif isinstance(event, FileDeletedEvent):
            found = FileEvent(now, EventKind.DELETED, src)
        elif isinstance(event, FileCreatedEvent):
            found = FileEvent(now, EventKind.CREATED, src)
        elif isinstance(event, FileModifiedEvent | FileClosedEvent):
            found = FileEvent(now, EventKind.MODIFIED, src, head=self._head(src))
        if found is None:
            return
        with self.lock:
            alerts = self.watcher.observe(found)
        for alert in alerts:
            self.on_alert(alert)


class FolderWatch:
    """Watches ``folder`` (recursively) until :meth:`stop`; usable as a context manager."""

    def __init__(
        self, folder: Path, policy: WatchPolicy, on_alert: AlertSink, *, recursive: bool = True
    ) -> None:
        self.watcher = ShareWatcher(policy)
        self._handler = _Handler(self.watcher, on_alert, policy.head_bytes)
        self._observer = Observer()
        self._observer.schedule(self._handler, str(folder), recursive=recursive)

    def start(self) -> FolderWatch:
        self._observer.start()
        return self

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=10)

    def __enter__(self) -> FolderWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
