"""The bulletin: what a security officer reads each morning, as one pure document.

A :class:`Bulletin` covers one establishment and one period (``daily``: the last 24 hours;
``weekly``: the last 7 days) in French (default) or English. It holds

- the **new** exposures of the period (first seen, or reopened, since its start), grouped by
  advisory with the assets each one hits, its decision, score, reasons, due date, fixed
  version and links;
- the **overdue** open exposures (due date passed), grouped the same way;
- the **KEV additions** of the period that hit the establishment;
- the open exposures **counted by decision**, and their **history** per day (the chart).

:func:`build_bulletin` makes it from exposure views and a few lookups, without any I/O;
:func:`tocsin.report.collect_bulletin` gathers those from the store, and
:mod:`tocsin.report.render` turns the same document into HTML, Markdown, JSON or PDF, so
the email, the webhook, the Atom feed and the files never disagree. docs/bulletins.md
describes the JSON shape (:func:`bulletin_document`, version 1). Reasons are kept as the
English phrases of the priority model and shown in the bulletin's language
(:meth:`Bulletin.reason_texts`, :mod:`tocsin.model.reasons`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from tocsin.model.finding import Decision
from tocsin.model.reasons import Lang, Reason, read_reasons, reason_document, reason_text
from tocsin.store.exposure_queries import ExposureView
from tocsin.watch.lifecycle import OPEN_STATUSES, RESOLVED_STATUSES, DayCount, Status

__all__ = [
    "FORMAT",
    "VERSION",
    "AssetHit",
    "Bulletin",
    "BulletinGroup",
    "KevAddition",
    "Lang",
    "Period",
    "advisory_link",
    "build_bulletin",
    "bulletin_document",
    "label",
]

FORMAT = "tocsin-bulletin"
VERSION = 1
_MAX_LINKS = 3


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def span(self) -> timedelta:
        return timedelta(days=1 if self is Period.DAILY else 7)


# -- labels, in French and English (a small table, not a catalogue) ------------------------
_LABELS: Mapping[str, tuple[str, str]] = {
    # key: (fr, en)
    "title.daily": ("Bulletin de veille quotidien", "Daily watch bulletin"),
    "title.weekly": ("Bulletin de veille hebdomadaire", "Weekly watch bulletin"),
    "period": ("Période", "Period"),
    "generated": ("Produit le", "Generated on"),
    "new": ("Nouvelles expositions", "New exposures"),
    "new.none": ("Aucune nouvelle exposition sur la période.", "No new exposure in the period."),
    "overdue": ("Expositions en retard", "Overdue exposures"),
    "overdue.none": ("Aucune exposition en retard.", "No overdue exposure."),
    "kev": ("Ajouts au catalogue KEV de la CISA", "Additions to CISA's KEV catalogue"),
    "kev.none": ("Aucun ajout KEV ne touche vos actifs.", "No KEV addition hits your assets."),
    "counts": ("Expositions ouvertes par décision", "Open exposures by decision"),
    "chart": (
        "Expositions ouvertes par décision (30 jours)",
        "Open exposures by decision (30 days)",
    ),
    "chart.summary": (
        "Le {day}, {n} exposition(s) ouverte(s){detail} ; {first} le {first_day} ;"
        " au plus haut, {peak} le {peak_day}.",
        "On {day}, {n} open exposure(s){detail}; {first} on {first_day};"
        " at most {peak}, on {peak_day}.",
    ),
    "chart.empty": ("Pas encore d'historique.", "No history yet."),
    "chart.data": ("Données du graphique", "Chart data"),
    "day": ("Jour", "Day"),
    "total": ("Total", "Total"),
    "advisory": ("Avis", "Advisory"),
    "assets": ("Actifs touchés", "Assets hit"),
    "asset": ("Actif", "Asset"),
    "decision": ("Décision", "Decision"),
    "score": ("Score", "Score"),
    "reasons": ("Raisons", "Reasons"),
    "due": ("Échéance", "Due"),
    "fixed": ("Version corrigée", "Fixed version"),
    "fixed.unknown": ("non précisée", "not stated"),
    "todo": ("À faire", "What to do"),
    "todo.fixed": ("Mettre à jour vers la version {v} ou ultérieure", "Update to {v} or later"),
    "todo.vendor": ("Appliquer le correctif de l'éditeur", "Apply the vendor's fix"),
    "links": ("Liens", "Links"),
    "criticality": ("Criticité", "Criticality"),
    "status": ("Statut", "Status"),
    "version": ("Version", "Version"),
    "kev.added": ("ajouté le", "added on"),
    "exploited": ("exploitée (KEV)", "exploited (KEV)"),
    "decision.act_now": ("Agir immédiatement", "Act now"),
    "decision.out_of_cycle": ("Hors cycle", "Out of cycle"),
    "decision.scheduled": ("Planifié", "Scheduled"),
    "decision.track": ("Surveiller", "Track"),
    "status.new": ("nouvelle", "new"),
    "status.acknowledged": ("prise en compte", "acknowledged"),
    "status.in_remediation": ("en remédiation", "in remediation"),
    "status.mitigated": ("atténuée", "mitigated"),
    "status.risk_accepted": ("risque accepté", "risk accepted"),
    "status.false_positive": ("faux positif", "false positive"),
    "status.fixed": ("corrigée", "fixed"),
    "status.closed": ("close", "closed"),
    "criticality.vital": ("vitale", "vital"),
    "criticality.high": ("haute", "high"),
    "criticality.medium": ("moyenne", "medium"),
    "criticality.low": ("basse", "low"),
    "footer": (
        "Produit par Tocsin à partir de l'inventaire et des avis de sécurité.",
        "Made by Tocsin from the inventory and the security advisories.",
    ),
}


def label(lang: Lang, key: str, **values: str) -> str:
    """The label ``key`` in ``lang`` (the key itself when unknown), with ``{v}`` filled in."""
    pair = _LABELS.get(key)
    text = key if pair is None else pair[0 if lang == "fr" else 1]
    return text.format(**values) if values else text


# -- the document ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AssetHit:
    exposure_id: int
    key: str
    name: str | None
    criticality: str | None
    version: str | None
    status: Status
    due_date: date | None
    match: str
    confidence: float


@dataclass(frozen=True)
class BulletinGroup:
    """One advisory and the assets it hits; decision, score and due date of the worst hit."""

    advisory: str
    title: str
    cves: tuple[str, ...]
    decision: Decision
    score: int
    reasons: tuple[str, ...]  # English phrases of the priority model, as stored
    kev: bool
    epss: float | None
    fixed_version: str | None
    due_date: date | None
    links: tuple[str, ...]
    assets: tuple[AssetHit, ...]

    @property
    def explained(self) -> tuple[Reason | str, ...]:
        """The reasons as codes with parameters; a phrase the model does not know stays text."""
        return read_reasons(self.reasons)


@dataclass(frozen=True)
class KevAddition:
    cve: str
    date_added: date
    advisories: tuple[str, ...]
    assets: tuple[str, ...]


@dataclass(frozen=True)
class Bulletin:
    establishment: str
    establishment_name: str
    period: Period
    lang: Lang
    generated_at: datetime
    since: datetime
    new: tuple[BulletinGroup, ...]
    overdue: tuple[BulletinGroup, ...]
    kev_additions: tuple[KevAddition, ...]
    counts: Mapping[Decision, int]  # open exposures (new, acknowledged, in remediation)
    history: tuple[DayCount, ...]

    @property
    def total_open(self) -> int:
        return sum(self.counts.values())

    @property
    def title(self) -> str:
        return f"{label(self.lang, f'title.{self.period.value}')} — {self.establishment_name}"

    @property
    def urgent(self) -> int:
        """New exposures that call for action out of the normal cycle."""
        return sum(
            len(g.assets)
            for g in self.new
            if g.decision in (Decision.ACT_NOW, Decision.OUT_OF_CYCLE)
        )

    def reason_texts(self, group: BulletinGroup) -> list[str]:
        """The reasons of ``group`` in the bulletin's language."""
        return [reason_text(reason, self.lang) for reason in group.explained]

    def subject(self) -> str:
        """A mail subject: the title and how many new exposures, urgent first."""
        new = sum(len(g.assets) for g in self.new)
        if self.lang == "fr":
            return f"[Tocsin] {self.title} : {new} nouvelle(s), dont {self.urgent} urgente(s)"
        return f"[Tocsin] {self.title}: {new} new, {self.urgent} urgent"


def advisory_link(advisory: str) -> str | None:
    """The public page of an advisory id, when its scheme is known."""
    upper = advisory.upper()
    if upper.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{upper}"
    if upper.startswith("CERTFR-"):
        kind = "alerte" if "-ALE-" in upper else "avis"
        return f"https://www.cert.ssi.gouv.fr/{kind}/{upper}/"
    if upper.startswith(("ICSMA-", "ICSA-")):
        return f"https://www.cisa.gov/news-events/ics-medical-advisories/{advisory.lower()}"
    if upper.startswith("GHSA-"):
        return f"https://github.com/advisories/{advisory}"
    return None


def _hit(view: ExposureView) -> AssetHit:
    return AssetHit(
        exposure_id=view.id,
        key=view.asset_key,
        name=view.asset_name,
        criticality=None if view.criticality is None else view.criticality.value,
        version=view.asset_version,
        status=view.status,
        due_date=view.due_date,
        match=view.match.value,
        confidence=view.confidence,
    )


def _links(advisory: str, references: Sequence[str], cves: Sequence[str] = ()) -> tuple[str, ...]:
    """The advisory's public page, its references, then (for a news item, which has no
    page of its own) the pages of the CVEs it cites."""
    own = advisory_link(advisory)
    found = [own] if own else []
    found += [r for r in references if r.startswith(("https://", "http://"))]
    if own is None:
        found += [link for cve in cves if (link := advisory_link(cve))]
    return tuple(dict.fromkeys(found))[:_MAX_LINKS]


def _groups(
    views: Iterable[ExposureView], references: Mapping[str, Sequence[str]]
) -> tuple[BulletinGroup, ...]:
    by_advisory: dict[str, list[ExposureView]] = {}
    for view in views:
        by_advisory.setdefault(view.advisory, []).append(view)
    groups: list[BulletinGroup] = []
    for advisory, hits in by_advisory.items():
        hits.sort(key=lambda v: (-v.decision.rank, -v.score, v.asset_key))
        worst = hits[0]
        dues = [v.due_date for v in hits if v.due_date is not None]
        epss = [v.epss for v in hits if v.epss is not None]
        fixed = next((v.fixed_version for v in hits if v.fixed_version), None)
        groups.append(
            BulletinGroup(
                advisory=advisory,
                title=worst.title,
                cves=worst.cves,
                decision=worst.decision,
                score=worst.score,
                reasons=worst.reasons,
                kev=any(v.kev for v in hits),
                epss=max(epss) if epss else None,
                fixed_version=fixed,
                due_date=min(dues) if dues else None,
                links=_links(advisory, references.get(advisory, ()), worst.cves),
                assets=tuple(_hit(v) for v in hits),
            )
        )
    groups.sort(key=lambda g: (-g.decision.rank, -g.score, g.due_date or date.max, g.advisory))
    return tuple(groups)


def _is_new(view: ExposureView, since: datetime) -> bool:
    if view.status in RESOLVED_STATUSES:
        return False
    reopened = view.status is Status.NEW and view.updated_at >= since
    return view.first_seen >= since or reopened


def _kev_additions(
    views: Sequence[ExposureView], kev_added: Mapping[str, date], since: date, until: date
) -> tuple[KevAddition, ...]:
    by_cve: dict[str, tuple[set[str], set[str]]] = {}
    for view in views:
        if not view.kev or view.status in RESOLVED_STATUSES:
            continue
        for cve in view.cves:
            added = kev_added.get(cve)
            if added is not None and since <= added <= until:
                advisories, assets = by_cve.setdefault(cve, (set(), set()))
                advisories.add(view.advisory)
                assets.add(view.asset_key)
    return tuple(
        KevAddition(cve, kev_added[cve], tuple(sorted(adv)), tuple(sorted(assets)))
        for cve, (adv, assets) in sorted(by_cve.items(), key=lambda i: (kev_added[i[0]], i[0]))
    )


def build_bulletin(
    establishment: str,
    establishment_name: str,
    views: Sequence[ExposureView],
    *,
    period: Period = Period.DAILY,
    lang: Lang = "fr",
    now: datetime,
    references: Mapping[str, Sequence[str]] | None = None,
    kev_added: Mapping[str, date] | None = None,
    history: Sequence[DayCount] = (),
) -> Bulletin:
    """The bulletin of ``establishment`` for the period ending at ``now``.

    ``views`` are the establishment's exposures (resolved ones are ignored);
    ``references`` maps an advisory id to its links, ``kev_added`` a CVE to the day KEV
    listed it, ``history`` is :func:`tocsin.watch.service.open_exposure_history`.
    """
    since = now - period.span
    today = now.date()
    mine = [v for v in views if v.establishment == establishment]
    open_views = [v for v in mine if v.status in OPEN_STATUSES]
    refs = references or {}
    counts = dict.fromkeys(Decision, 0)
    for view in open_views:
        counts[view.decision] += 1
    overdue = [v for v in open_views if v.due_date is not None and v.due_date < today]
    return Bulletin(
        establishment=establishment,
        establishment_name=establishment_name or establishment,
        period=period,
        lang=lang,
        generated_at=now,
        since=since,
        new=_groups((v for v in mine if _is_new(v, since)), refs),
        overdue=_groups(overdue, refs),
        kev_additions=_kev_additions(mine, kev_added or {}, since.date(), today),
        counts=counts,
        history=tuple(history),
    )


# -- the JSON shape (version 1) ---------------------------------------------------------------
def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _group_document(group: BulletinGroup, lang: Lang) -> dict[str, Any]:
    return {
        "advisory": group.advisory,
        "title": group.title,
        "cves": list(group.cves),
        "decision": group.decision.value,
        "score": group.score,
        "reasons": list(group.reasons),
        "reason_codes": [reason_document(reason, lang) for reason in group.explained],
        "kev": group.kev,
        "epss": group.epss,
        "fixed_version": group.fixed_version,
        "due_date": _day(group.due_date),
        "links": list(group.links),
        "assets": [
            {
                "exposure": hit.exposure_id,
                "asset": hit.key,
                "name": hit.name,
                "criticality": hit.criticality,
                "version": hit.version,
                "status": hit.status.value,
                "due_date": _day(hit.due_date),
                "match": hit.match,
                "confidence": hit.confidence,
            }
            for hit in group.assets
        ],
    }


def bulletin_document(bulletin: Bulletin) -> dict[str, Any]:
    """The bulletin as JSON-ready data (docs/bulletins.md, ``version`` 1)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "establishment": {"slug": bulletin.establishment, "name": bulletin.establishment_name},
        "period": bulletin.period.value,
        "lang": bulletin.lang,
        "title": bulletin.title,
        "generated_at": bulletin.generated_at.isoformat(),
        "since": bulletin.since.isoformat(),
        "counts": {
            **{d.value: bulletin.counts.get(d, 0) for d in Decision},
            "total": bulletin.total_open,
        },
        "new": [_group_document(g, bulletin.lang) for g in bulletin.new],
        "overdue": [_group_document(g, bulletin.lang) for g in bulletin.overdue],
        "kev_additions": [
            {
                "cve": k.cve,
                "date_added": k.date_added.isoformat(),
                "advisories": list(k.advisories),
                "assets": list(k.assets),
            }
            for k in bulletin.kev_additions
        ],
        "history": [
            {"day": d.day.isoformat(), **{x.value: d.by_decision(x) for x in Decision}}
            for d in bulletin.history
        ],
    }
