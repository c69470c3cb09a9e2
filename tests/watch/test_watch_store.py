"""The watch's store: migration 0002, the advisory codec, advisories, enrichments, feeds."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, inspect, select, text

from tocsin.errors import StoreError
from tocsin.model import Establishment
from tocsin.model.advisory import (
    Advisory,
    AffectedProduct,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    Exploitation,
    Severity,
    VersionRange,
    VersionScheme,
)
from tocsin.store.advisory_json import advisory_from_json, advisory_to_json
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment
from tocsin.store.tables import AdvisoryRow, EnrichmentRow
from tocsin.store.watch import (
    EnrichmentLookup,
    advisory_records,
    count_advisories,
    get_feed_status,
    get_policy,
    iter_advisories,
    list_feed_status,
    record_feed_failure,
    record_feed_success,
    set_policy,
    upsert_advisories,
    upsert_enrichments,
    withdrawn_ids,
)
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy
from tocsin.watch.sources.base import Enrichment

WATCH_TABLES = {
    "advisories",
    "enrichments",
    "feed_state",
    "watch_policies",
    "exposures",
    "exposure_events",
    "suppressions",
}
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


# --- migration 0002 ----------------------------------------------------------------------------


def test_migration_0002_up_and_down(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade("0001")
    with db.session() as s:
        add_establishment(s, Establishment("ch-a", "CH A"))
    assert not WATCH_TABLES & set(inspect(db.engine).get_table_names())
    db.upgrade("0002")
    inspector = inspect(db.engine)
    assert set(inspector.get_table_names()) >= WATCH_TABLES
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("exposures")}
    assert indexes["ix_exposures_establishment_status"] == ["establishment_id", "status"]
    assert indexes["ix_exposures_advisory_id"] == ["advisory_id"]
    uniques = inspector.get_unique_constraints("exposures")
    assert ["establishment_id", "asset_key", "advisory_id"] in [u["column_names"] for u in uniques]
    db.downgrade("0001")
    assert db.current_revision() == "0001"
    assert not WATCH_TABLES & set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT slug FROM establishments")).scalar_one() == "ch-a"
    db.upgrade()
    assert db.current_revision() == db.head_revision()
    db.dispose()


# --- the advisory codec -----------------------------------------------------------------------

words = st.text(alphabet=string.ascii_letters + string.digits + " .-_:/*éà", max_size=12)
maybe_words = st.none() | words
scores = st.none() | st.floats(min_value=0, max_value=10, allow_nan=False)
datetimes = st.none() | st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
ranges = st.builds(
    VersionRange,
    introduced=maybe_words,
    introduced_exclusive=st.booleans(),
    fixed=maybe_words,
    last_affected=maybe_words,
    exact=maybe_words,
    all_versions=st.booleans(),
    scheme=st.sampled_from(VersionScheme),
    text=maybe_words,
)
products = st.builds(
    AffectedProduct,
    product=words,
    vendor=maybe_words,
    ranges=st.lists(ranges, max_size=3).map(tuple),
    purl=maybe_words,
    cpes=st.lists(words, max_size=2).map(tuple),
    fixed_versions=st.lists(words, max_size=2).map(tuple),
    affected=st.booleans(),
    text=maybe_words,
    provider=maybe_words,
)
cpe_matches = st.builds(
    CpeMatch,
    criteria=words,
    vulnerable=st.booleans(),
    version_start_including=maybe_words,
    version_end_excluding=maybe_words,
)
nodes = st.builds(
    CpeNode,
    operator=st.sampled_from(["AND", "OR"]),
    negate=st.booleans(),
    matches=st.lists(cpe_matches, max_size=3).map(tuple),
)
configurations = st.builds(
    CpeConfiguration,
    nodes=st.lists(nodes, max_size=2).map(tuple),
    operator=st.sampled_from(["AND", "OR"]),
    negate=st.booleans(),
)
severities = st.builds(Severity, kind=words, score=scores, vector=maybe_words, label=maybe_words)
exploitations = st.builds(
    Exploitation,
    kev=st.booleans(),
    kev_date_added=maybe_words,
    ransomware_use=st.booleans(),
    certfr_alert=st.booleans(),
    epss=st.none() | st.floats(min_value=0, max_value=1),
    epss_percentile=st.none() | st.floats(min_value=0, max_value=1),
    ssvc_exploitation=st.sampled_from([None, "none", "poc", "active"]),
    ssvc_automatable=st.none() | st.booleans(),
    ssvc_technical_impact=st.sampled_from([None, "partial", "total"]),
)
advisories = st.builds(
    Advisory,
    id=words.map(lambda w: f"CVE-2024-{w}"),
    source=st.sampled_from(["nvd", "cve5", "kev", "osv", "csaf", "certfr"]),
    title=st.text(max_size=30),
    summary=st.text(max_size=60),
    published=datetimes,
    modified=datetimes,
    aliases=st.lists(words, max_size=3).map(tuple),
    cves=st.lists(words, max_size=3).map(tuple),
    affected=st.lists(products, max_size=3).map(tuple),
    configurations=st.lists(configurations, max_size=2).map(tuple),
    severities=st.lists(severities, max_size=2).map(tuple),
    exploitation=exploitations,
    references=st.lists(words, max_size=2).map(tuple),
    solution=st.none() | st.text(max_size=20),
    language=st.sampled_from(["en", "fr"]),
    withdrawn=st.booleans(),
    cwes=st.lists(words, max_size=2).map(tuple),
)


@given(advisories)
@settings(max_examples=300, deadline=None)
def test_codec_round_trip(advisory: Advisory) -> None:
    assert advisory_from_json(advisory_to_json(advisory)) == advisory


@given(st.lists(advisories, min_size=1, max_size=4))
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_codec_round_trip_through_the_database(database: Database, batch: list[Advisory]) -> None:
    with database.session() as s:
        s.execute(delete(AdvisoryRow))
        upsert_advisories(s, batch, NOW)
    with database.session() as s:
        stored = {(a.source, a.id): a for a in iter_advisories(s)}
    expected: dict[tuple[str, str], Advisory] = {}
    for advisory in batch:  # the newest record of each (source, id) is kept
        known = expected.get((advisory.source, advisory.id))
        if known is None or not (
            advisory.modified and known.modified and advisory.modified < known.modified
        ):
            expected[(advisory.source, advisory.id)] = advisory
    assert stored == expected


def test_codec_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(StoreError, match="non-finite"):
        advisory_to_json(Advisory("CVE-1", "nvd", severities=(Severity("cvss_v3", float("nan")),)))
    with pytest.raises(StoreError, match="format version"):
        advisory_from_json({"id": "CVE-1", "source": "nvd", "v": 99})
    with pytest.raises(StoreError, match="cannot be read"):
        advisory_from_json({"id": "CVE-1", "source": "nvd", "cves": "CVE-1"})


def test_codec_leaves_defaults_out() -> None:
    data = advisory_to_json(Advisory("CVE-2024-1", "nvd", cves=("CVE-2024-1",)))
    assert data == {"id": "CVE-2024-1", "source": "nvd", "cves": ["CVE-2024-1"], "v": 1}


# --- advisories ---------------------------------------------------------------------------------


def _advisory(source: str, modified: datetime | None, title: str, **kw: object) -> Advisory:
    return Advisory(
        id="CVE-2024-21762",
        source=source,
        title=title,
        modified=modified,
        cves=("CVE-2024-21762",),
        **kw,  # type: ignore[arg-type]
    )


def test_newest_modified_wins(database: Database) -> None:
    t0 = datetime(2024, 2, 9, tzinfo=UTC)
    with database.session() as s:
        counts = upsert_advisories(s, [_advisory("nvd", t0, "first")], NOW)
        assert (counts.inserted, counts.updated, counts.older) == (1, 0, 0)
    with database.session() as s:
        counts = upsert_advisories(s, [_advisory("nvd", t0 - timedelta(days=1), "stale")], NOW)
        assert (counts.inserted, counts.updated, counts.older) == (0, 0, 1)
        counts = upsert_advisories(s, [_advisory("nvd", t0 + timedelta(days=1), "newer")], NOW)
        assert (counts.inserted, counts.updated, counts.older) == (0, 1, 0)
    with database.session() as s:
        assert [a.title for a in advisory_records(s, "CVE-2024-21762")] == ["newer"]
        # In one batch as well: the newest record wins whatever the order.
        counts = upsert_advisories(
            s,
            [
                _advisory("nvd", t0 + timedelta(days=3), "newest"),
                _advisory("nvd", t0 + timedelta(days=2), "between"),
            ],
            NOW,
        )
        assert (counts.updated, counts.older) == (1, 1)
        assert [a.title for a in advisory_records(s, "CVE-2024-21762")] == ["newest"]


def test_a_reload_of_the_same_record_writes_nothing(database: Database) -> None:
    t0 = datetime(2024, 2, 9, tzinfo=UTC)
    with database.session() as s:
        upsert_advisories(s, [_advisory("nvd", t0, "first")], NOW)
    with database.session() as s:
        counts = upsert_advisories(s, [_advisory("nvd", t0, "first")], NOW + timedelta(days=1))
        assert (counts.inserted, counts.updated, counts.older, counts.unchanged) == (0, 0, 0, 1)
        # The same date with other data (a parser that reads more of the record) rewrites.
        counts = upsert_advisories(s, [_advisory("nvd", t0, "read better")], NOW)
        assert (counts.updated, counts.unchanged) == (1, 0)
    with database.session() as s:
        assert [a.title for a in advisory_records(s, "CVE-2024-21762")] == ["read better"]
        # Undated records cannot be compared by date: they are rewritten.
        upsert_advisories(s, [_advisory("kev", None, "kev")], NOW)
        counts = upsert_advisories(s, [_advisory("kev", None, "kev")], NOW)
        assert (counts.updated, counts.unchanged) == (1, 0)


def test_one_row_per_feed_and_undated_records_replace(database: Database) -> None:
    with database.session() as s:
        upsert_advisories(s, [_advisory("cve5", None, "cna"), _advisory("kev", None, "kev")], NOW)
        upsert_advisories(s, [_advisory("kev", None, "kev again")], NOW)
    with database.session() as s:
        records = advisory_records(s, "CVE-2024-21762")
        assert [(a.source, a.title) for a in records] == [("cve5", "cna"), ("kev", "kev again")]
        assert count_advisories(s) == 2
        row = s.scalars(select(AdvisoryRow).where(AdvisoryRow.source == "kev")).one()
        assert row.cves == ["CVE-2024-21762"] and row.title == "kev again"


def test_withdrawn_only_when_every_feed_withdrew(database: Database) -> None:
    with database.session() as s:
        upsert_advisories(
            s,
            [
                _advisory("nvd", None, "x", withdrawn=True),
                _advisory("cve5", None, "x"),
                Advisory("CVE-2023-1", "nvd", withdrawn=True),
            ],
            NOW,
        )
        assert withdrawn_ids(s, ["CVE-2024-21762", "CVE-2023-1", "CVE-2000-9"]) == {"CVE-2023-1"}


# --- enrichments -------------------------------------------------------------------------------


def test_enrichments_from_kev_and_epss_combine(database: Database) -> None:
    kev = Exploitation(
        kev=True, kev_date_added="2024-02-09", kev_due_date="2024-02-16", ransomware_use=True
    )
    with database.session() as s:
        upsert_enrichments(s, [Enrichment("CVE-2024-21762", kev, "kev")], NOW)
        upsert_enrichments(
            s,
            [Enrichment("CVE-2024-21762", Exploitation(epss=0.9, epss_percentile=0.99), "epss")],
            NOW,
        )
    with database.session() as s:
        assert (
            upsert_enrichments(
                s,
                [
                    Enrichment(
                        "CVE-2024-21762", Exploitation(epss=0.95, epss_percentile=0.995), "epss"
                    )
                ],
                NOW,
            )
            == 1
        )
    with database.session() as s:
        lookup = EnrichmentLookup(s)
        assert lookup["CVE-2024-21762"] == Exploitation(
            kev=True,
            kev_date_added="2024-02-09",
            kev_due_date="2024-02-16",
            ransomware_use=True,
            epss=0.95,
            epss_percentile=0.995,
        )
        assert "CVE-2000-1" not in lookup and lookup.get("CVE-2000-1") is None
        assert list(lookup) == ["CVE-2024-21762"] and len(lookup) == 1
        assert s.get(EnrichmentRow, "CVE-2024-21762") is not None


# --- feed state and policies -------------------------------------------------------------------


def test_feed_state_keeps_the_fetch_state_and_errors(database: Database) -> None:
    fetch_state = {"last_success": NOW.isoformat(), "http": {"https://x/kev.json": {"etag": "e"}}}
    with database.session() as s:
        assert get_feed_status(s, "kev") is None
        record_feed_success(s, "kev", "kev", {"inserted": 3}, NOW, fetch_state)
    later = NOW + timedelta(hours=1)
    with database.session() as s:
        record_feed_failure(s, "kev", "kev", "HTTP 503\x00", later)
        record_feed_success(s, "csaf-cisa", "csaf", {}, later)
    with database.session() as s:
        state = get_feed_status(s, "kev")
        assert [f.feed for f in list_feed_status(s)] == ["csaf-cisa", "kev"]
    assert state is not None
    assert (state.kind, state.state, state.last_error) == ("kev", fetch_state, "HTTP 503")
    assert (state.last_success, state.last_attempt) == (NOW, later)
    assert state.counts == {"inserted": 3}


def test_policy_per_establishment(database: Database) -> None:
    with database.session() as s:
        est = add_establishment(s, Establishment("ch-a", "CH A"))
        assert get_policy(s, est.id) == DEFAULT_POLICY
        mine = PriorityPolicy(act_now_days=1, out_of_cycle_days=5, scheduled_days=60)
        set_policy(s, est.id, mine, NOW)
    with database.session() as s:
        assert get_policy(s, est.id) == mine
