"""Mirrors for air-gapped sites: written from a local server, read back, checked, and kept
intact when a run fails. No test reaches the Internet (fetch_fixtures/local_server.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fetch_fixtures.local_server import Answer, FakeClock, LocalServer, Seen, local_server

from tocsin.errors import InputError, UsageError
from tocsin.watch.feeds import Feed
from tocsin.watch.fetch import FetchClient, RetryPolicy
from tocsin.watch.mirror import MANIFEST, mirror, read_manifest, read_mirror, verify_mirror
from tocsin.watch.sources import ParseReport, get_source

KEV = "kev/known_exploited_vulnerabilities.json"
EPSS = "epss/epss_scores-2025-08-25.csv"
NVD_PATH = "/rest/json/cves/2.0"
T0 = datetime(2025, 8, 25, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_nvd_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOCSIN_NVD_API_KEY", raising=False)
    monkeypatch.delenv("TOCSIN_NVD_API_KEY_FILE", raising=False)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        serve_feeds(running)
        yield running


@pytest.fixture
def client() -> Iterator[FetchClient]:
    clock = FakeClock()
    with FetchClient(
        trust_env=False,
        timeout=5.0,
        retry=RetryPolicy(attempts=2),
        clock=clock.monotonic,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
    ) as made:
        yield made


def serve_feeds(server: LocalServer) -> None:
    def nvd(seen: Seen) -> Answer:
        return Answer(200, server.fixture(f"nvd/page-{seen.query.get('startIndex', '0')}.json"))

    server.route(NVD_PATH, nvd)
    server.serve("/kev.json", KEV, etag='"2025.08.25"')
    server.script("/epss.csv.gz", Answer(200, gzip.compress(server.fixture(EPSS), mtime=0)))
    server.serve("/feed/", "certfr/feed.xml", content_type="application/rss+xml")
    server.serve("/avis/CERTFR-2025-AVI-0009/json/", "certfr/avis/CERTFR-2025-AVI-0009.json")
    server.serve("/alerte/CERTFR-2024-ALE-999/json/", "certfr/alerte/CERTFR-2024-ALE-999.json")


def feeds(server: LocalServer) -> list[Feed]:
    return [
        Feed(name="nvd", kind="nvd", url=server.url(NVD_PATH)),
        Feed(name="kev", kind="kev", url=server.url("/kev.json")),
        Feed(name="epss", kind="epss", url=server.url("/epss.csv.gz")),
        Feed(name="certfr-avis", kind="certfr", url=server.url("/feed/")),
    ]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def kev_file(dest: Path) -> Path:
    (path,) = (dest / "kev" / "kev").iterdir()
    return path


def test_mirror_then_read_back(tmp_path: Path, server: LocalServer, client: FetchClient) -> None:
    dest = tmp_path / "mirror"
    progress: list[tuple[str, int]] = []
    report = mirror(
        feeds(server), client, dest, lambda *step: progress.append(step), now=lambda: T0
    )

    assert report.failed == ()
    assert report.documents == 7
    assert ("nvd", 3) in progress and ("certfr-avis", 2) in progress
    assert [p.name for p in tmp_path.iterdir()] == ["mirror"]  # no temporary folder left

    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "tocsin-mirror" and manifest["version"] == 1
    kev = next(feed for feed in manifest["feeds"] if feed["name"] == "kev")
    assert kev["kind"] == "kev" and kev["url"] == server.url("/kev.json")
    assert kev["status"] == "fetched"
    assert datetime.fromisoformat(kev["fetched_at"]) == T0
    (entry,) = kev["files"]
    assert entry["etag"] == '"2025.08.25"'
    assert entry["path"] == "kev/kev/000001-kev.json.gz"
    assert entry["sha256"] == hashlib.sha256((dest / entry["path"]).read_bytes()).hexdigest()

    read = list(read_mirror(dest))
    assert [(name, kind) for name, kind, _ in read] == [("nvd", "nvd")] * 3 + [
        ("kev", "kev"),
        ("epss", "epss"),
        ("certfr-avis", "certfr"),
        ("certfr-avis", "certfr"),
    ]
    documents = {name: document for name, _, document in read}
    assert documents["kev"].raw == server.fixture(KEV)
    assert documents["epss"].raw.startswith(b"\x1f\x8b")  # stored as fetched: already gzip
    assert documents["kev"].origin == str(dest / entry["path"])

    counts: dict[str, int] = {}
    for name, kind, document in read:
        records = list(get_source(kind).parse(document.raw, document.origin, ParseReport(kind)))
        counts[name] = counts.get(name, 0) + len(records)
    assert counts == {"nvd": 7, "kev": 6, "epss": 320, "certfr-avis": 2}


def test_a_tampered_file_is_detected_before_anything_is_read(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    dest = tmp_path / "mirror"
    mirror(feeds(server), client, dest)
    path = kev_file(dest)
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF
    path.write_bytes(bytes(data))
    documents = read_mirror(dest)
    with pytest.raises(InputError, match="tampered or truncated") as raised:
        next(documents)
    assert raised.value.location is not None
    assert raised.value.location.file == str(path)


def test_a_truncated_or_missing_file_is_detected(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    dest = tmp_path / "mirror"
    mirror(feeds(server), client, dest)
    page = sorted((dest / "nvd" / "nvd").iterdir())[1]
    page.write_bytes(page.read_bytes()[:100])
    with pytest.raises(InputError, match="tampered or truncated") as raised:
        verify_mirror(dest)
    assert raised.value.location is not None and raised.value.location.file == str(page)

    page.unlink()
    with pytest.raises(InputError, match="cannot read") as raised:
        list(read_mirror(dest))
    assert raised.value.location is not None and raised.value.location.file == str(page)


@pytest.mark.parametrize(
    "path", ["../outside.gz", "/etc/passwd", "kev/other-feed/000001.gz", "nvd/nvd/000001-x.gz"]
)
def test_manifest_paths_stay_in_their_feed_folder(
    tmp_path: Path, server: LocalServer, client: FetchClient, path: str
) -> None:
    dest = tmp_path / "mirror"
    mirror(feeds(server), client, dest)
    manifest: dict[str, Any] = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    kev = next(feed for feed in manifest["feeds"] if feed["name"] == "kev")
    kev["files"][0]["path"] = path
    (dest / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="outside"):
        verify_mirror(dest)


def test_a_malformed_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text('{"format": "tocsin-mirror", "version": 2}', "utf-8")
    with pytest.raises(InputError, match="invalid mirror manifest") as raised:
        read_manifest(tmp_path)
    assert raised.value.location is not None and raised.value.location.field == "version"
    with pytest.raises(InputError, match="not a Tocsin mirror"):
        read_manifest(tmp_path / "nowhere")


def test_a_feed_that_fails_keeps_its_previous_copy(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    dest = tmp_path / "mirror"
    mirror(feeds(server), client, dest, now=lambda: T0)
    kept = kev_file(dest).read_bytes()

    server.script("/kev.json", Answer(503))
    later = T0 + timedelta(days=1)
    report = mirror(feeds(server), client, dest, now=lambda: later)

    (failed,) = report.failed
    assert failed.name == "kev" and failed.status == "kept"
    assert failed.error is not None and "HTTP 503 after 2 attempts" in failed.error
    assert failed.fetched_at == T0  # the date of the copy that was kept
    assert kev_file(dest).read_bytes() == kept
    manifest = read_manifest(dest)
    assert {feed.name: feed.fetched_at for feed in manifest.feeds} == {
        "nvd": later,
        "kev": T0,
        "epss": later,
        "certfr-avis": later,
    }
    assert [kind for _, kind, _ in read_mirror(dest)].count("kev") == 1


def test_a_feed_that_fails_without_a_previous_copy_is_listed(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    server.script("/kev.json", Answer(404))
    dest = tmp_path / "mirror"
    report = mirror(feeds(server), client, dest)
    (failed,) = report.failed
    assert (failed.name, failed.status, failed.files) == ("kev", "failed", ())
    assert not (dest / "kev" / "kev").exists()
    assert "kev" not in {name for name, _, _ in read_mirror(dest)}


def test_an_interrupted_mirror_leaves_the_previous_one_intact(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    dest = tmp_path / "mirror"
    mirror(feeds(server), client, dest, now=lambda: T0)
    before = snapshot(dest)

    def interrupt(name: str, count: int) -> None:
        if name == "kev":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mirror(feeds(server), client, dest, interrupt, now=lambda: T0 + timedelta(days=1))
    assert snapshot(dest) == before
    assert [p.name for p in tmp_path.iterdir()] == ["mirror"]
    assert len(list(read_mirror(dest))) == 7


def test_a_folder_that_is_not_a_mirror_is_not_replaced(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    dest = tmp_path / "documents"
    dest.mkdir()
    (dest / "plan-blanc.docx").write_bytes(b"precious")
    with pytest.raises(UsageError, match="not a Tocsin mirror"):
        mirror(feeds(server), client, dest)
    (dest / MANIFEST).write_text('{"from": "another tool"}', encoding="utf-8")
    with pytest.raises(UsageError, match="not a readable Tocsin mirror"):
        mirror(feeds(server), client, dest)
    assert (dest / "plan-blanc.docx").read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["documents"]


def test_a_feed_name_cannot_lead_out_of_the_mirror(
    tmp_path: Path, server: LocalServer, client: FetchClient
) -> None:
    dest = tmp_path / "mirror"
    evil = Feed(name="../../escape", kind="kev", url=server.url("/kev.json"))
    with pytest.raises(UsageError, match="unfit for a folder name"):
        mirror([evil], client, dest)
    assert list(tmp_path.iterdir()) == []
