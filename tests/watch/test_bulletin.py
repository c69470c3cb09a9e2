"""The bulletin document, its renderings, its chart and its Atom feed, without a database."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from defusedxml import ElementTree as ET

from tocsin.errors import UsageError
from tocsin.model.finding import Decision, MatchKind
from tocsin.model.inventory import Criticality, Exposure
from tocsin.report.charts import chart_description, open_exposures_chart
from tocsin.report.render import BulletinFormat, render_bulletin, render_html, render_markdown
from tocsin.store.exposure_queries import ExposureView
from tocsin.watch.atom import ATOM_NS, atom_feed
from tocsin.watch.bulletin import (
    Bulletin,
    Period,
    advisory_link,
    build_bulletin,
    bulletin_document,
    label,
)
from tocsin.watch.lifecycle import DayCount, Status

NOW = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
CVE = "CVE-2024-21762"


def _view(ident: int, asset: str, advisory: str = CVE, **kw: object) -> ExposureView:
    values: dict[str, object] = {
        "id": ident,
        "establishment": "ch-a",
        "asset_key": asset,
        "asset_name": f"Pare-feu {asset}",
        "asset_version": "7.2.5",
        "criticality": Criticality.VITAL,
        "asset_exposure": Exposure.INTERNET,
        "function": "urgences",
        "advisory": advisory,
        "title": "FortiOS <SSL-VPN> | out-of-bounds write",
        "cves": (advisory,) if advisory.startswith("CVE") else (CVE,),
        "match": MatchKind.NAME_VERSION,
        "confidence": 0.9,
        "evidence": "7.2.0 <= v < 7.2.7",
        "fixed_version": "7.2.7",
        "kev": True,
        "epss": 0.94,
        "decision": Decision.ACT_NOW,
        "score": 92,
        "reasons": ("exploited (KEV)", "vital asset exposed to the Internet"),
        "status": Status.NEW,
        "status_reason": None,
        "status_until": None,
        "due_date": date(2025, 3, 14),
        "first_seen": NOW - timedelta(hours=3),
        "last_seen": NOW - timedelta(hours=3),
        "updated_at": NOW - timedelta(hours=3),
        "resolved_at": None,
    }
    values.update(kw)
    return ExposureView(**values)  # type: ignore[arg-type]


OLD = NOW - timedelta(days=20)
VIEWS = [
    _view(1, "fw-dmz"),
    _view(2, "fw-bloc", criticality=Criticality.HIGH, score=80, due_date=date(2025, 3, 13)),
    _view(
        3,
        "pacs-1",
        "CERTFR-2025-AVI-0101",
        title="Vulnérabilité dans PACS",
        decision=Decision.SCHEDULED,
        score=40,
        kev=False,
        epss=None,
        fixed_version=None,
        due_date=date(2025, 4, 11),
    ),
    # Seen long ago, still open and past due: overdue, not new.
    _view(
        4,
        "srv-9",
        "CVE-2023-1111",
        decision=Decision.OUT_OF_CYCLE,
        score=60,
        first_seen=OLD,
        updated_at=OLD,
        due_date=date(2025, 3, 1),
        kev=False,
    ),  # fmt: skip
    # Resolved: in nothing.
    _view(5, "srv-8", "CVE-2023-2222", status=Status.FIXED, first_seen=NOW, updated_at=NOW),
    # Another establishment: in nothing.
    _view(6, "fw-x", establishment="ch-b"),
    # Reopened today: new again.
    _view(
        7,
        "srv-7",
        "CVE-2022-0001",
        decision=Decision.TRACK,
        score=10,
        due_date=None,
        first_seen=OLD,
        updated_at=NOW - timedelta(hours=1),
        kev=False,
    ),  # fmt: skip
    # Handled (risk accepted) long ago: neither new, nor open, nor overdue.
    _view(
        8,
        "srv-6",
        "CVE-2021-0002",
        status=Status.RISK_ACCEPTED,
        first_seen=OLD,
        updated_at=OLD,
        due_date=date(2025, 3, 1),
    ),  # fmt: skip
]
HISTORY = tuple(
    DayCount(date(2025, 2, 11) + timedelta(days=i), act_now=i % 3, scheduled=1, track=i // 10)
    for i in range(30)
)


def _bulletin(lang: str = "fr", period: Period = Period.DAILY) -> Bulletin:
    return build_bulletin(
        "ch-a",
        "CH Arles",
        VIEWS,
        period=period,
        lang=lang,  # type: ignore[arg-type]
        now=NOW,
        references={CVE: ("https://fortiguard.fortinet.com/psirt/FG-IR-24-015", "ftp://x")},
        kev_added={CVE: date(2025, 3, 11), "CVE-2021-0002": date(2025, 3, 11)},
        history=HISTORY,
    )


def test_new_exposures_grouped_by_advisory_most_urgent_first() -> None:
    bulletin = _bulletin()
    assert [g.advisory for g in bulletin.new] == [CVE, "CERTFR-2025-AVI-0101", "CVE-2022-0001"]
    forti = bulletin.new[0]
    assert [a.key for a in forti.assets] == ["fw-dmz", "fw-bloc"]
    assert (forti.decision, forti.score, forti.due_date) == (
        Decision.ACT_NOW,
        92,
        date(2025, 3, 13),
    )
    assert forti.links == (
        "https://nvd.nist.gov/vuln/detail/CVE-2024-21762",
        "https://fortiguard.fortinet.com/psirt/FG-IR-24-015",
    )
    assert [g.advisory for g in bulletin.overdue] == ["CVE-2023-1111"]
    assert bulletin.counts == {
        Decision.ACT_NOW: 2,
        Decision.OUT_OF_CYCLE: 1,
        Decision.SCHEDULED: 1,
        Decision.TRACK: 1,
    }
    assert [(k.cve, k.assets) for k in bulletin.kev_additions] == [
        ("CVE-2021-0002", ("srv-6",)),  # handled (risk accepted) but still there
        (CVE, ("fw-bloc", "fw-dmz")),
    ]
    assert bulletin.urgent == 2
    assert bulletin.subject() == (
        "[Tocsin] Bulletin de veille quotidien — CH Arles : 4 nouvelle(s), dont 2 urgente(s)"
    )


def test_weekly_period_reaches_further_back() -> None:
    old = [_view(1, "a", first_seen=NOW - timedelta(days=3), updated_at=NOW - timedelta(days=3))]
    assert build_bulletin("ch-a", "CH A", old, now=NOW).new == ()
    weekly = build_bulletin("ch-a", "CH A", old, now=NOW, period=Period.WEEKLY)
    assert [g.advisory for g in weekly.new] == [CVE]


def test_json_document_shape() -> None:
    document = json.loads(render_bulletin(_bulletin("en"), BulletinFormat.JSON))
    assert document == bulletin_document(_bulletin("en")) | {
        "new": document["new"]
    }  # round-trips through JSON
    assert set(document) == {
        "format", "version", "establishment", "period", "lang", "title", "generated_at",
        "since", "counts", "new", "overdue", "kev_additions", "history",
    }  # fmt: skip
    assert document["counts"] == {
        "act_now": 2, "out_of_cycle": 1, "scheduled": 1, "track": 1, "total": 5,
    }  # fmt: skip
    hit = document["new"][0]["assets"][0]
    assert hit == {
        "exposure": 1, "asset": "fw-dmz", "name": "Pare-feu fw-dmz", "criticality": "vital",
        "version": "7.2.5", "status": "new", "due_date": "2025-03-14", "match": "name+version",
        "confidence": 0.9,
    }  # fmt: skip
    assert document["history"][0] == {
        "day": "2025-02-11", "act_now": 0, "out_of_cycle": 0, "scheduled": 1, "track": 0,
    }  # fmt: skip


def test_html_is_self_contained_and_escaped() -> None:
    html = render_html(_bulletin())
    assert "<script" not in html.lower() and "@import" not in html
    assert ' src="' not in html and "<link" not in html  # nothing fetched from anywhere
    assert "FortiOS &lt;SSL-VPN&gt;" in html and "<SSL-VPN>" not in html
    assert "Agir immédiatement" in html and "Mettre à jour vers la version 7.2.7" in html
    assert "Échéance" in html and "14/03/2025" in html and "<svg" in html
    assert html.count('class="group') == 4  # three new groups, one overdue


def test_markdown_in_both_languages() -> None:
    french = render_markdown(_bulletin())
    assert french.startswith("# Bulletin de veille quotidien — CH Arles")
    assert "FortiOS \\<SSL-VPN\\> \\| out-of-bounds write" in french  # table-safe
    assert "**Échéance** : 13/03/2025" in french
    english = render_markdown(_bulletin("en"))
    assert english.startswith("# Daily watch bulletin — CH Arles")
    assert "**Due**: 2025-03-13" in english and "Update to 7.2.7 or later" in english
    assert "Apply the vendor's fix" in english  # the CERT-FR avis states no fixed version


def test_pdf_needs_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import then raises ImportError
    with pytest.raises(UsageError, match=r"tocsin\[pdf\]"):
        render_bulletin(_bulletin(), "pdf")


def test_chart_is_an_svg_with_one_band_per_decision_present() -> None:
    svg = open_exposures_chart(HISTORY, "fr")
    root = ET.fromstring(svg)
    bands = [e.get("class") for e in root.iter("{http://www.w3.org/2000/svg}polygon")]
    assert bands == ["band-act_now", "band-scheduled", "band-track"]
    assert "Surveiller" in svg and "11/02" in svg and "<script" not in svg
    assert ET.fromstring(open_exposures_chart((), "en")).tag.endswith("svg")
    one = open_exposures_chart(HISTORY[:1], "en")
    assert "band-scheduled" in one


def test_atom_feed() -> None:
    feed = ET.fromstring(atom_feed(_bulletin("en"), "https://tocsin.example/"))
    ns = {"a": ATOM_NS}
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 3
    first = entries[0]
    assert first.findtext("a:title", namespaces=ns) == (
        "[Act now] CVE-2024-21762 — FortiOS <SSL-VPN> | out-of-bounds write"
    )
    assert first.findtext("a:id", namespaces=ns) == "tag:tocsin,2025:ch-a/CVE-2024-21762/1"
    hrefs = [link.get("href") for link in first.findall("a:link", ns)]
    assert hrefs[0] == "https://tocsin.example/watch/exposures/1"
    summary = first.findtext("a:summary", namespaces=ns) or ""
    assert "Assets hit: fw-dmz (Pare-feu fw-dmz), fw-bloc" in summary
    assert feed.findtext("a:updated", namespaces=ns) == NOW.isoformat()


def test_labels_and_links() -> None:
    assert label("fr", "decision.track") == "Surveiller"
    assert label("en", "todo.fixed", v="1.2") == "Update to 1.2 or later"
    assert label("en", "no.such.key") == "no.such.key"
    assert advisory_link("CERTFR-2025-ALE-003") == (
        "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2025-ALE-003/"
    )
    assert advisory_link("ICSMA-24-030-01") == (
        "https://www.cisa.gov/news-events/ics-medical-advisories/icsma-24-030-01"
    )
    assert advisory_link("OSV-2024-1") is None
    assert replace(_bulletin(), lang="en").title == "Daily watch bulletin — CH Arles"


MODEL_REASONS = (
    "listed in CISA KEV since 2024-02-09",
    "EPSS 0.94 (top 1%)",
    "CVSS 9.8",
    "vital for patient safety (urgences)",
    "internet-exposed",
    "exploited (KEV)",  # a phrase of an older Tocsin: shown as it is
)


def _reasoned(lang: str) -> Bulletin:
    views = [_view(1, "fw-dmz", reasons=MODEL_REASONS)]
    return build_bulletin("ch-a", "CH Arles", views, lang=lang, now=NOW, history=HISTORY)  # type: ignore[arg-type]


def test_reasons_are_in_the_bulletin_language_in_every_format() -> None:
    french = _reasoned("fr")
    expected = (
        "inscrite au catalogue KEV de la CISA depuis le 09/02/2024 ; "
        "EPSS 0,94 (1 % les plus probables) ; CVSS 9,8 ; "
        "vitale pour la sécurité des patients (urgences) ; exposé à Internet ; exploited (KEV)"
    )
    assert " ; ".join(french.reason_texts(french.new[0])) == expected
    assert expected.replace("'", "&#39;") in render_html(french)
    assert expected in render_markdown(french)
    summary = ET.fromstring(atom_feed(french, "https://t.example")).findtext(
        f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}summary"
    )
    assert summary is not None and f"Raisons : {expected}" in summary
    english = _reasoned("en")
    assert "listed in CISA KEV since 2024-02-09 ; EPSS 0.94 (top 1%)" in render_html(english)


def test_json_keeps_english_reasons_and_adds_codes_in_the_bulletin_language() -> None:
    group = bulletin_document(_reasoned("fr"))["new"][0]
    assert group["reasons"] == list(MODEL_REASONS)  # stable, as in version 1
    codes = group["reason_codes"]
    assert [c["code"] for c in codes] == ["kev", "epss", "cvss", "criticality", "exposure", None]
    assert codes[0] == {
        "code": "kev",
        "params": {"since": "2024-02-09"},
        "text": "inscrite au catalogue KEV de la CISA depuis le 09/02/2024",
    }
    assert codes[3]["params"] == {"level": "vital", "function": "urgences"}
    assert codes[5] == {"code": None, "params": {}, "text": "exploited (KEV)"}
    assert bulletin_document(_bulletin())["version"] == 1


def test_pdf_is_rendered_when_weasyprint_is_installed() -> None:
    pytest.importorskip("weasyprint")
    assert render_bulletin(_reasoned("fr"), "pdf").startswith(b"%PDF")


def test_chart_has_a_description_in_words() -> None:
    assert chart_description(HISTORY, "fr") == (
        "Le 12/03/2025, 5 exposition(s) ouverte(s) (2 agir immédiatement, 1 planifié, "
        "2 surveiller) ; 1 le 11/02/2025 ; au plus haut, 5 le 12/03/2025."
    )
    assert chart_description(HISTORY, "en").startswith("On 2025-03-12, 5 open exposure(s)")
    assert chart_description((), "en") == "No history yet."
    svg = open_exposures_chart(HISTORY, "en", described_by="chart-summary")
    assert ET.fromstring(svg).get("aria-describedby") == "chart-summary"
    html = render_html(_bulletin())
    assert 'aria-describedby="chart-summary"' in html and 'id="chart-summary"' in html
    assert "au plus haut" in render_markdown(_bulletin())
