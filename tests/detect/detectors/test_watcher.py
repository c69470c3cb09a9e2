"""The file-share watcher: the pure decision module on crafted event streams, then the
watchdog adapter on a simulated encryption run and on benign activity in a temp folder."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tocsin.detect.detectors import ransomware_extensions
from tocsin.detect.detectors.canary import docx, xlsx
from tocsin.detect.detectors.watcher import (
    AlertKind,
    EventKind,
    FileEvent,
    Severity,
    ShareWatcher,
    WatchAlert,
    WatchPolicy,
    looks_rewritten,
    shannon_entropy,
)
from tocsin.detect.detectors.watcher_fs import FolderWatch
from tocsin.detect.detectors.watcher_sim import (
    Encryption,
    backup_copy,
    make_share,
    user_session,
)

POLICY = WatchPolicy(known_extensions=ransomware_extensions())


def kinds(alerts: list[WatchAlert]) -> set[AlertKind]:
    return {a.kind for a in alerts}


def test_entropy_and_type_expectations() -> None:
    assert shannon_entropy(b"") == 0.0
    assert shannon_entropy(bytes(range(256)) * 4) == pytest.approx(8.0)
    noise = os.urandom(1024)
    assert looks_rewritten("/s/a.docx", docx("a")[:1024], POLICY) is None  # zip: high entropy
    assert looks_rewritten("/s/a.xlsx", noise, POLICY) is not None  # lost its PK signature
    assert looks_rewritten("/s/a.csv", b"nom;prenom;service\n" * 60, POLICY) is None
    assert looks_rewritten("/s/a.csv", noise, POLICY) is not None
    assert looks_rewritten("/s/a.docx.locked", noise, POLICY) is not None
    assert looks_rewritten("/s/photo.raw", noise, POLICY) is None  # unknown type: no opinion
    assert looks_rewritten("/s/a.csv", noise[:10], POLICY) is None  # too short to judge


def encryption_events(files: int, per_file: float = 0.01) -> list[FileEvent]:
    events = []
    for i in range(files):
        t = i * per_file
        path = f"/share/Service{i % 5}/doc{i}.docx"
        events.append(FileEvent(t, EventKind.MODIFIED, path, head=os.urandom(1024)))
        events.append(FileEvent(t, EventKind.MOVED, path, dest=path + ".locked"))
    return events


def test_encryption_alerts_after_a_few_files() -> None:
    watcher = ShareWatcher(POLICY)
    first: dict[AlertKind, int] = {}
    for number, event in enumerate(encryption_events(100)):
        for alert in watcher.observe(event):
            first.setdefault(alert.kind, number // 2 + 1)
            assert alert.severity is not None
    assert first[AlertKind.ENTROPY] == POLICY.entropy_rewrites
    assert first[AlertKind.EXTENSION_CHANGE] == POLICY.extension_changes
    assert first[AlertKind.RENAMES] == POLICY.renames
    assert min(first.values()) < 50


def test_write_new_file_then_delete_original_is_an_extension_change() -> None:
    watcher = ShareWatcher(POLICY)
    alerts = []
    for i in range(10):
        path = f"/share/doc{i}.xlsx"
        alerts += watcher.observe(FileEvent(i, EventKind.CREATED, path + ".crypt"))
        alerts += watcher.observe(FileEvent(i, EventKind.DELETED, path))
    assert kinds(alerts) == {AlertKind.EXTENSION_CHANGE}


def test_known_extension_note_and_canary_are_immediate() -> None:
    canary = "/share/Planning_bloc_2026.xlsx"
    watcher = ShareWatcher(WatchPolicy(canaries=frozenset({canary}), **_known()))
    assert kinds(
        watcher.observe(FileEvent(0, EventKind.MOVED, "/share/a.pdf", "/share/a.pdf.akira"))
    ) == {AlertKind.KNOWN_EXTENSION}
    touched = watcher.observe(FileEvent(1, EventKind.MODIFIED, canary, head=b"x"))
    assert [(a.kind, a.severity) for a in touched] == [(AlertKind.CANARY, Severity.CRITICAL)]
    notes = []
    for i in range(3):
        notes += watcher.observe(FileEvent(2 + i, EventKind.CREATED, f"/share/s{i}/README.txt"))
    assert kinds(notes) == {AlertKind.RANSOM_NOTE}


def _known() -> dict[str, frozenset[str]]:
    return {"known_extensions": ransomware_extensions()}


def test_benign_streams_do_not_alert() -> None:
    watcher = ShareWatcher(POLICY)
    alerts = []
    t = 0.0
    # rsync-like: 500 hidden temporary files renamed to their final names, copies unchanged
    for i in range(500):
        final = f"/backup/Service/doc{i}.docx"
        temp = f"/backup/Service/.doc{i}.docx.Xa81{i}"
        alerts += watcher.observe(FileEvent(t, EventKind.CREATED, temp))
        alerts += watcher.observe(FileEvent(t, EventKind.MODIFIED, temp, head=docx(final)[:1024]))
        alerts += watcher.observe(FileEvent(t, EventKind.MOVED, temp, final))
        t += 0.01
    # a user saving (Office writes ~$ owner files and .tmp then renames) and renaming
    for i in range(10):
        path = f"/share/RH/planning{i}.xlsx"
        alerts += watcher.observe(FileEvent(t, EventKind.MOVED, path + ".tmp", path))
        alerts += watcher.observe(FileEvent(t, EventKind.MODIFIED, path, head=xlsx(path)[:1024]))
        t += 5
    # one README in an installer folder
    alerts += watcher.observe(FileEvent(t, EventKind.CREATED, "/share/App/README.txt"))
    assert alerts == []


def test_memory_is_bounded_and_windows_slide() -> None:
    policy = WatchPolicy(max_events=100, max_keys=50, renames=10**9, extension_changes=10**9)
    watcher = ShareWatcher(policy)
    for i in range(20_000):
        watcher.observe(FileEvent(i * 0.001, EventKind.MOVED, f"/s/{i}.a", f"/s/{i}.x{i % 500}"))
        watcher.observe(FileEvent(i * 0.001, EventKind.CREATED, f"/s/{i}.n"))
    assert len(watcher._renames.entries) <= 100
    assert len(watcher._extensions) <= 50
    assert len(watcher._created) <= 50
    # an old burst leaves the window
    slow = ShareWatcher(WatchPolicy(renames=5, window_seconds=10))
    out = []
    for i in range(20):
        out += slow.observe(FileEvent(i * 3.0, EventKind.MOVED, f"/s/{i}.docx", f"/s/{i}b.docx"))
    assert out == []


# --- the watchdog adapter on a real folder -------------------------------------------------
def _watch(folder: Path, action: object, timeout: float = 20.0) -> tuple[list[WatchAlert], float]:
    alerts: list[WatchAlert] = []
    done = threading.Event()

    def sink(alert: WatchAlert) -> None:
        alerts.append(alert)
        done.set()

    started = time.monotonic()
    with FolderWatch(folder, POLICY, sink):
        time.sleep(0.2)
        assert callable(action)
        action(done)
        done.wait(1.0)  # let late events arrive
    return alerts, time.monotonic() - started


def test_simulated_encryption_is_caught_before_50_files(tmp_path: Path) -> None:
    share = tmp_path / "share"
    files = make_share(share, 300)
    run = Encryption(delay_seconds=0.01)

    def attack(done: threading.Event) -> None:
        worker = threading.Thread(target=run.run, args=(files,))
        worker.start()
        done.wait(30)
        touched_at_alert[0] = run.touched
        run.stop()
        worker.join()

    touched_at_alert = [0]
    alerts, _ = _watch(share, attack)
    assert alerts, "no alert during the simulated encryption"
    assert alerts[0].severity is Severity.CRITICAL
    assert touched_at_alert[0] < 50, touched_at_alert


def test_benign_activity_on_a_real_folder_does_not_alert(tmp_path: Path) -> None:
    share = tmp_path / "share"
    files = make_share(share, 200)
    backup = tmp_path / "backup"

    def benign(done: threading.Event) -> None:
        user_session(files, delay_seconds=0.02)
        backup_copy(sorted(p for p in share.rglob("*") if p.is_file()), backup)

    alerts, _ = _watch(tmp_path, benign)
    assert alerts == []
