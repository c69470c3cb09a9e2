"""Reports built from the store: the watch bulletin and its renderings.

:func:`collect_bulletin` reads what a bulletin needs from the database (the establishment's
exposures, the links of their advisories, the KEV dates of their CVEs, the 30-day history)
and hands it to the pure :func:`tocsin.watch.bulletin.build_bulletin`;
:func:`tocsin.report.render.render_bulletin` renders the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from tocsin.report.render import BulletinFormat, render_bulletin
from tocsin.store import exposure_queries as queries
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment
from tocsin.store.watch import EnrichmentLookup, advisory_records
from tocsin.watch.bulletin import Bulletin, Lang, Period, build_bulletin
from tocsin.watch.lifecycle import RESOLVED_STATUSES, Status
from tocsin.watch.service import list_exposures, open_exposure_history

__all__ = ["HISTORY_DAYS", "collect_bulletin", "write_bulletin"]

HISTORY_DAYS = 30
_UNRESOLVED = tuple(s for s in Status if s not in RESOLVED_STATUSES)


def _references(database: Database, advisories: Sequence[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    with database.session() as session:
        for advisory in advisories:
            links: list[str] = []
            for record in advisory_records(session, advisory):
                links.extend(record.references)
            found[advisory] = tuple(dict.fromkeys(links))
    return found


def _kev_dates(database: Database, cves: Sequence[str]) -> dict[str, date]:
    found: dict[str, date] = {}
    with database.session() as session:
        lookup = EnrichmentLookup(session)
        for cve in cves:
            signals = lookup.get(cve)
            if signals is None or not signals.kev or not signals.kev_date_added:
                continue
            try:
                found[cve] = date.fromisoformat(signals.kev_date_added[:10])
            except ValueError:
                continue  # an unreadable date: not listed as an addition
    return found


def collect_bulletin(
    database: Database,
    establishment: str,
    *,
    period: Period | str = Period.DAILY,
    lang: str = "fr",
    now: datetime | None = None,
) -> Bulletin:
    """The bulletin of ``establishment`` for the period ending ``now`` (NotFoundError if the
    establishment does not exist). ``lang`` other than ``en`` means French."""
    moment = now or datetime.now(UTC)
    with database.session() as session:
        name = get_establishment(session, establishment).name
    flt = queries.ExposureFilter(establishments=(establishment,), statuses=_UNRESOLVED)
    views = list_exposures(database, flt, limit=None)
    chosen = Period(period)
    language: Lang = "en" if lang == "en" else "fr"
    since = moment - chosen.span
    today = moment.date()
    wanted = sorted(
        {
            v.advisory
            for v in views
            if v.updated_at >= since or (v.due_date is not None and v.due_date < today)
        }
    )
    kev_cves = sorted({cve for v in views if v.kev for cve in v.cves})
    history = open_exposure_history(database, establishment, HISTORY_DAYS, today=today)
    return build_bulletin(
        establishment,
        name,
        views,
        period=chosen,
        lang=language,
        now=moment,
        references=_references(database, wanted),
        kev_added=_kev_dates(database, kev_cves),
        history=history,
    )


def write_bulletin(
    bulletin: Bulletin,
    folder: Path,
    formats: Sequence[BulletinFormat] = (
        BulletinFormat.HTML,
        BulletinFormat.MD,
        BulletinFormat.JSON,
    ),
) -> list[Path]:
    """Write the bulletin as ``<folder>/<establishment>/<date>-<period>.<format>``."""
    target = folder / bulletin.establishment
    target.mkdir(parents=True, exist_ok=True)
    stem = f"{bulletin.generated_at.date().isoformat()}-{bulletin.period.value}"
    written: list[Path] = []
    for fmt in formats:
        path = target / f"{stem}{fmt.suffix}"
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(render_bulletin(bulletin, fmt))
        temporary.replace(path)
        written.append(path)
    return written
