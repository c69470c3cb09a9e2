"""FIRST EPSS daily CSV: a generated file in the real shape, malformed rows, gzip."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.errors import InputError
from tocsin.model.advisory import Exploitation
from tocsin.watch.sources import epss as epss_module
from tocsin.watch.sources.base import Enrichment, ParseReport, Record, iter_documents, sources
from tocsin.watch.sources.epss import EpssSource, ScoreFile, score_file

FIXTURES = Path(__file__).parent / "fixtures" / "epss"
SCORES = FIXTURES / "epss_scores-2025-08-25.csv"
NVD_PAGE = Path(__file__).parent / "fixtures" / "nvd" / "cves-page.json"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(raw: bytes, origin: str = "epss.csv") -> tuple[list[Record], ParseReport]:
    report = ParseReport("epss")
    return list(EpssSource().parse(raw, origin, report)), report


def test_registered_under_its_name() -> None:
    assert sources()["epss"] is EpssSource


def test_daily_file() -> None:
    records, report = parse(SCORES.read_bytes())
    assert report.parsed == len(records) == 320 and report.skipped == []
    by_cve = {r.cve: r for r in records if isinstance(r, Enrichment)}
    assert by_cve["CVE-2021-44228"] == Enrichment(
        "CVE-2021-44228", Exploitation(epss=0.94358, epss_percentile=0.99687), "epss"
    )
    assert by_cve["CVE-1999-0006"].exploitation.epss_percentile == 0.84062
    assert score_file(SCORES.read_bytes()) == ScoreFile("v2025.03.14", "2025-08-25T00:00:00+0000")


def test_gzip_body_and_gz_file(tmp_path: Path) -> None:
    packed = gzip.compress(SCORES.read_bytes())
    assert parse(packed)[0] == parse(SCORES.read_bytes())[0]
    assert score_file(packed).model_version == "v2025.03.14"
    path = tmp_path / "epss_scores-current.csv.gz"
    path.write_bytes(packed)
    [doc] = iter_documents(path)
    assert len(parse(doc.raw, doc.origin)[0]) == 320


def test_gzip_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epss_module, "MAX_DOCUMENT_BYTES", 1000)
    with pytest.raises(InputError, match="over the size limit"):
        parse(gzip.compress(SCORES.read_bytes()))
    with pytest.raises(InputError, match="damaged gzip data"):
        parse(b"\x1f\x8b" + b"not really gzip")


def test_bad_rows_are_skipped_with_their_line() -> None:
    records, report = parse((FIXTURES / "malformed.csv").read_bytes(), "bad.csv")
    assert [r.cve for r in records if isinstance(r, Enrichment)] == [
        "CVE-2021-44228",
        "CVE-2022-22965",
    ]
    assert [str(s) for s in report.skipped] == [
        "bad.csv:4: row skipped: expected 3 columns, found 2",
        "bad.csv:5: row skipped: expected 3 columns, found 4",
        "bad.csv:6: row skipped: not a CVE id",
        "bad.csv:7: row skipped: epss is not a number",
        "bad.csv:8: row skipped: epss is not between 0 and 1",
        "bad.csv:9: row skipped: epss is not between 0 and 1",
        "bad.csv:10: row skipped: percentile is not between 0 and 1",
        "bad.csv:12: row skipped: a second row for the same CVE",
    ]


def test_without_header_one_skip() -> None:
    records, report = parse((FIXTURES / "no-header.csv").read_bytes(), "x.csv")
    assert records == []
    assert [str(s) for s in report.skipped] == [
        "x.csv:1: not an EPSS CSV: no cve,epss,percentile header"
    ]


def test_columns_in_another_order_and_crlf() -> None:
    raw = b"percentile,cve,epss\r\n0.5,CVE-2024-0001,0.001\r\n"
    [record], report = parse(raw)
    assert record == Enrichment(
        "CVE-2024-0001", Exploitation(epss=0.001, epss_percentile=0.5), "epss"
    )


def test_a_json_feed_is_refused() -> None:
    with pytest.raises(InputError, match="NVD API 2.0 response, not an EPSS CSV"):
        parse(NVD_PAGE.read_bytes())


# --- properties ------------------------------------------------------------------------------

rows = st.lists(
    st.tuples(
        st.from_regex(r"CVE-(19|20)[0-9]{2}-[0-9]{4,7}", fullmatch=True),
        st.floats(0, 1),
        st.floats(0, 1),
    ),
    max_size=40,
    unique_by=lambda row: row[0],
)


@FUZZ
@given(rows, st.booleans())
def test_round_trip_rows(generated: list[tuple[str, float, float]], packed: bool) -> None:
    """Rows written as an EPSS file come back with the same values."""
    lines = [
        "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000",
        "cve,epss,percentile",
    ]
    lines += [f"{cve},{score!r},{percentile!r}" for cve, score, percentile in generated]
    raw = ("\n".join(lines) + "\n").encode()
    records, report = parse(gzip.compress(raw) if packed else raw)
    assert report.skipped == []
    assert [
        (r.cve, r.exploitation.epss, r.exploitation.epss_percentile)
        for r in records
        if isinstance(r, Enrichment)
    ] == generated


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_bytes(raw: bytes) -> None:
    report = ParseReport("epss")
    try:
        records = list(EpssSource().parse(raw, "fuzz", report))
    except InputError:
        return
    assert len(records) == report.parsed


@FUZZ
@given(st.lists(st.text(max_size=40), max_size=20))
def test_fuzz_rows_after_a_header(lines: list[str]) -> None:
    raw = "\n".join(["cve,epss,percentile", *lines]).encode("utf-8", "surrogatepass")
    report = ParseReport("epss")
    records = list(EpssSource().parse(raw, "fuzz", report))
    assert len(records) == report.parsed
    assert all(0 <= (r.exploitation.epss or 0) <= 1 for r in records if isinstance(r, Enrichment))


def test_json_that_is_no_feed_is_a_skip() -> None:
    records, report = parse(json.dumps({"hello": 1}).encode())
    assert records == [] and len(report.skipped) == 1
