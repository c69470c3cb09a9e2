"""The CISA KEV catalogue: a sample, malformed entries and the whole shared catalogue."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_data
from tocsin.errors import InputError
from tocsin.model.advisory import Advisory, AffectedProduct, Exploitation
from tocsin.watch.sources.base import Enrichment, ParseReport, Record, iter_documents, sources
from tocsin.watch.sources.kev import KevSource

FIXTURES = Path(__file__).parent / "fixtures" / "kev"
NVD_PAGE = Path(__file__).parent / "fixtures" / "nvd" / "cves-page.json"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(raw: bytes, origin: str = "kev.json") -> tuple[list[Record], ParseReport]:
    report = ParseReport("kev")
    return list(KevSource().parse(raw, origin, report)), report


def test_registered_under_its_name() -> None:
    assert sources()["kev"] is KevSource


def test_each_entry_gives_an_advisory_and_an_enrichment() -> None:
    records, report = parse((FIXTURES / "catalogue.json").read_bytes())
    assert report.parsed == 3 and report.skipped == [] and len(records) == 6
    advisory, enrichment = records[2], records[3]
    exploitation = Exploitation(
        kev=True, kev_date_added="2023-10-18", kev_due_date="2023-11-08", ransomware_use=True
    )
    assert enrichment == Enrichment("CVE-2023-4966", exploitation, "kev")
    assert advisory == Advisory(
        id="CVE-2023-4966",
        source="kev",
        title="Citrix NetScaler ADC and NetScaler Gateway Buffer Overflow Vulnerability",
        summary=(
            "Citrix NetScaler ADC and NetScaler Gateway contain a buffer overflow vulnerability"
            " that allows for sensitive information disclosure when configured as a Gateway"
            " (VPN virtual server, ICA Proxy, CVPN, RDP Proxy) or AAA virtual server."
        ),
        published=datetime(2023, 10, 18, tzinfo=UTC),
        cves=("CVE-2023-4966",),
        affected=(
            AffectedProduct(
                product="NetScaler ADC and NetScaler Gateway",
                vendor="Citrix",
                text="Citrix NetScaler ADC and NetScaler Gateway (CISA KEV names no versions)",
                provider="CISA-KEV",
            ),
        ),
        exploitation=exploitation,
        references=(
            "https://www.netscaler.com/blog/news/cve-2023-4966-critical-security-update-now"
            "-available-for-netscaler-adc-and-netscaler-gateway/",
            "https://support.citrix.com/article/CTX579459/netscaler-adc-and-netscaler-gateway"
            "-security-bulletin-for-cve20234966-and-cve20234967",
            "https://nvd.nist.gov/vuln/detail/CVE-2023-4966",
        ),
        solution=(
            "Apply mitigations and kill all active and persistent sessions per vendor"
            " instructions [https://www.netscaler.com/blog/news/cve-2023-4966-critical-security"
            "-update-now-available-for-netscaler-adc-and-netscaler-gateway/] OR discontinue use"
            " of the product if mitigations are unavailable."
        ),
        cwes=("CWE-119",),
    )
    panos = records[0]
    assert isinstance(panos, Advisory) and panos.exploitation.ransomware_use
    assert panos.references == (
        "https://security.paloaltonetworks.com/CVE-2024-3400",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-3400",
    )
    assert panos.cwes == ("CWE-20", "CWE-77")


def test_malformed_entries_are_skipped_alone() -> None:
    records, report = parse((FIXTURES / "malformed.json").read_bytes(), "bad.json")
    assert report.parsed == 3 and len(records) == 6
    assert [str(s) for s in report.skipped] == [
        "bad.json [vulnerabilities[3].dateAdded]: catalogue entry skipped: "
        "Input should be a valid date or datetime, invalid character in year",
        "bad.json [vulnerabilities[4].cveID]: catalogue entry skipped: Field required",
        "bad.json [vulnerabilities[5].vendorProject]: catalogue entry skipped: "
        "String should have at least 1 character",
        "bad.json [vulnerabilities[6]]: catalogue entry skipped: "
        "Input should be a valid dictionary",
    ]


def test_a_truncated_catalogue_is_reported() -> None:
    data = json.loads((FIXTURES / "catalogue.json").read_text())
    data["count"] = 1404
    records, report = parse(json.dumps(data).encode())
    assert len(records) == 6
    assert [str(s) for s in report.skipped] == [
        "kev.json [count]: catalogue truncated: it counts 1404 entries, the file holds 3"
    ]


def test_other_feeds_are_refused() -> None:
    with pytest.raises(InputError, match="NVD API 2.0 response, not the CISA KEV catalogue"):
        parse(NVD_PAGE.read_bytes())


def test_not_json_is_one_skip() -> None:
    records, report = parse(b"\n\n<html>503 Service Unavailable</html>", "kev.json")
    assert records == []
    [skip] = report.skipped
    assert (skip.location.line, skip.location.column) == (3, 1)
    assert skip.reason == "not JSON: expected value"


# --- properties ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


def assert_only_records_or_skips(raw: bytes) -> None:
    report = ParseReport("kev")
    try:
        records = list(KevSource().parse(raw, "fuzz", report))
    except InputError:
        return
    assert len(records) == 2 * report.parsed
    assert records or report.skipped or b'"vulnerabilities"' in raw


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes(raw: bytes) -> None:
    assert_only_records_or_skips(raw)


@FUZZ
@given(json_values)
def test_fuzz_json_values(value: object) -> None:
    assert_only_records_or_skips(json.dumps(value).encode())


@FUZZ
@given(st.lists(json_values | st.dictionaries(st.sampled_from(["cveID", "product"]), json_values)))
def test_fuzz_entries(entries: list[object]) -> None:
    doc = {"catalogVersion": "x", "vulnerabilities": entries}
    report = ParseReport("kev")
    records = list(KevSource().parse(json.dumps(doc).encode(), "fuzz", report))
    assert (
        report.parsed + len(report.skipped)
        == len(entries)
        == len(records) // 2 + len(report.skipped)
    )


names = st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=20).filter(
    str.strip
)
entries = st.fixed_dictionaries(
    {
        "cveID": st.from_regex(r"CVE-(19|20)[0-9]{2}-[0-9]{4,7}", fullmatch=True),
        "vendorProject": names,
        "product": names,
        "dateAdded": st.dates(date(2021, 11, 3), date(2030, 1, 1)),
        "dueDate": st.dates(date(2021, 11, 3), date(2030, 1, 1)),
        "knownRansomwareCampaignUse": st.sampled_from(["Known", "Unknown"]),
    }
)


@FUZZ
@given(st.lists(entries, max_size=5))
def test_round_trip_entries(items: list[dict[str, object]]) -> None:
    """Entries written as a catalogue come back with the same signals."""
    doc = {
        "catalogVersion": "2025.08.25",
        "count": len(items),
        "vulnerabilities": [
            {k: (v.isoformat() if isinstance(v, date) else v) for k, v in item.items()}
            for item in items
        ],
    }
    records, report = parse(json.dumps(doc).encode())
    assert report.skipped == []
    enrichments = [r for r in records if isinstance(r, Enrichment)]
    advisories = [r for r in records if isinstance(r, Advisory)]
    for item, enrichment, advisory in zip(items, enrichments, advisories, strict=True):
        assert enrichment.cve == advisory.id == item["cveID"]
        assert enrichment.exploitation == advisory.exploitation
        assert enrichment.exploitation.kev_date_added == str(item["dateAdded"])
        assert enrichment.exploitation.kev_due_date == str(item["dueDate"])
        known = item["knownRansomwareCampaignUse"] == "Known"
        assert enrichment.exploitation.ransomware_use is known
        assert advisory.affected[0].vendor == str(item["vendorProject"]).strip()
        assert advisory.affected[0].product == str(item["product"]).strip()


# --- the shared real data --------------------------------------------------------------------


def test_the_whole_shared_catalogue() -> None:
    path = shared_data("watch", "kev", "known_exploited_vulnerabilities.json")
    report = ParseReport("kev")
    records = [
        r for doc in iter_documents(path) for r in KevSource().parse(doc.raw, doc.origin, report)
    ]
    assert report.parsed == 1404 and report.skipped == []
    enrichments = [r for r in records if isinstance(r, Enrichment)]
    advisories = [r for r in records if isinstance(r, Advisory)]
    assert len(enrichments) == len(advisories) == 1404
    assert len({e.cve for e in enrichments}) == 1404
    assert sum(e.exploitation.ransomware_use for e in enrichments) == 293
    assert all(e.exploitation.kev_due_date for e in enrichments)
    assert all(len(a.affected) == 1 and a.affected[0].ranges == () for a in advisories)
    assert all(a.title and a.summary and a.solution for a in advisories)
