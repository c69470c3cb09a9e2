"""Time-to-alert and files touched of the file-share watcher on a simulated encryption run.

For each pace, a temp share of 400 documents is encrypted one file at a time (XOR with a
random key, rename to .locked, a note per folder; tocsin.detect.detectors.watcher_sim)
while ``FolderWatch`` (watchdog/inotify + the pure ShareWatcher) watches it; the run stops
at the first alert. Then a benign run (a user saving and renaming documents, a backup
copying every file) counts false alerts. Run: .venv/bin/python bench/detect_watcher.py
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from tocsin.detect.detectors import ransomware_extensions
from tocsin.detect.detectors.watcher import WatchAlert, WatchPolicy
from tocsin.detect.detectors.watcher_fs import FolderWatch
from tocsin.detect.detectors.watcher_sim import Encryption, backup_copy, make_share, user_session

POLICY = WatchPolicy(known_extensions=ransomware_extensions())
PACES = (0.05, 0.01, 0.002, 0.0)  # seconds per file


def attack(delay: float) -> tuple[int, float, str]:
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder:
        share = Path(folder)
        files = make_share(share, 400)
        run = Encryption(delay_seconds=delay)
        fired = threading.Event()
        first: list[tuple[int, float, str]] = []
        started = time.monotonic()

        def sink(alert: WatchAlert) -> None:
            if not first:
                first.append((run.touched, time.monotonic() - started, alert.kind.value))
                run.stop()
                fired.set()

        with FolderWatch(share, POLICY, sink):
            time.sleep(0.2)
            started = time.monotonic()
            run.run(files)
            fired.wait(2.0)
        return first[0] if first else (run.touched, float("nan"), "none")


def benign() -> int:
    alerts: list[WatchAlert] = []
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder:
        share = Path(folder) / "share"
        files = make_share(share, 400)
        with FolderWatch(Path(folder), POLICY, alerts.append):
            time.sleep(0.2)
            user_session(files, delay_seconds=0.02)
            backup_copy(sorted(p for p in share.rglob("*") if p.is_file()), Path(folder) / "bak")
            time.sleep(1.0)
    return len(alerts)


def main() -> None:
    print("| pace (s/file) | files/s | files touched at alert | time to alert (s) | first alert |")
    print("|---|---|---|---|---|")
    for delay in PACES:
        touched, seconds, kind = attack(delay)
        rate = "max" if delay == 0 else f"{1 / delay:.0f}"
        print(f"| {delay} | {rate} | {touched} | {seconds:.3f} | {kind} |")
    print(f"\nbenign run (user session + backup of 400 files): {benign()} alerts")


if __name__ == "__main__":
    main()
