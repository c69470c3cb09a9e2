"""One advisory per vulnerability, whatever the number of feeds that describe it.

The same CVE arrives from NVD (CPE configurations), CVE JSON 5 (the CNA's affected products
and CISA's ADP CPEs, ranges and SSVC) and the KEV catalogue (vendor and product, exploited):
:func:`merge_advisories` folds records with the same id into one, so that the engine makes
one finding per (asset, advisory) and keeps the best evidence of all of them. An OSV record
whose own id is not a CVE (GHSA-…) but which aliases exactly one CVE joins that CVE.

Bulletins (CERT-FR avis, CSAF advisories such as ICSMA-…) keep their own id: they are other
documents about the same flaws, with their own wording and fixes. When an asset matches both
CVE-X and a CERT-FR avis listing CVE-X, both findings are kept; the bulletin groups them by
CVE. :func:`signals_for` lends a bulletin the exploitation signals and CVSS of its CVEs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from tocsin.model.advisory import Advisory, Exploitation, Severity
from tocsin.watch.priority import Signals

__all__ = ["combine_exploitation", "merge_advisories", "merge_key", "signals_for"]

# Sources whose records describe one vulnerability each (merged by CVE id).
VULNERABILITY_SOURCES = frozenset({"nvd", "cve5", "kev", "osv"})
# Which source's title and summary win when several describe the same CVE.
_TEXT_ORDER = {"cve5": 0, "nvd": 1, "osv": 2, "kev": 3}
_SSVC_EXPLOITATION = {"none": 0, "poc": 1, "active": 2}
_SSVC_IMPACT = {"partial": 0, "total": 1}


def merge_key(advisory: Advisory) -> str:
    """The id an advisory is merged under: its own, or the one CVE an OSV record aliases."""
    if advisory.id.upper().startswith("CVE-") or advisory.source != "osv":
        return advisory.id
    cves = {a for a in (*advisory.aliases, *advisory.cves) if a.upper().startswith("CVE-")}
    return next(iter(cves)) if len(cves) == 1 else advisory.id


def merge_advisories(advisories: Iterable[Advisory]) -> list[Advisory]:
    """Advisories with the same merge key folded into one, in order of first appearance."""
    groups: dict[str, list[Advisory]] = {}
    for advisory in advisories:
        groups.setdefault(merge_key(advisory), []).append(advisory)
    return [_merge(key, group) for key, group in groups.items()]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _merge(key: str, group: list[Advisory]) -> Advisory:
    if len(group) == 1 and group[0].id == key:
        return group[0]
    ordered = sorted(group, key=lambda a: _TEXT_ORDER.get(a.source, 9))
    first = ordered[0]
    ids = {key}
    published = [a.published for a in group if a.published is not None]
    modified = [a.modified for a in group if a.modified is not None]
    return replace(
        first,
        id=key,
        source="+".join(dict.fromkeys(a.source for a in group)),
        title=next((a.title for a in ordered if a.title), ""),
        summary=next((a.summary for a in ordered if a.summary), ""),
        published=min(published) if published else None,
        modified=max(modified) if modified else None,
        aliases=tuple(
            a for a in _unique(x for g in group for x in (g.id, *g.aliases)) if a not in ids
        ),
        cves=_unique(c for a in group for c in a.cves),
        affected=tuple(dict.fromkeys(p for a in group for p in a.affected)),
        configurations=tuple(dict.fromkeys(c for a in group for c in a.configurations)),
        severities=tuple(dict.fromkeys(s for a in group for s in a.severities)),
        exploitation=combine_exploitation(a.exploitation for a in group),
        references=_unique(r for a in group for r in a.references),
        solution=next((a.solution for a in ordered if a.solution), None),
        withdrawn=all(a.withdrawn for a in group),
        cwes=_unique(c for a in group for c in a.cwes),
    )


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


def _highest(values: Iterable[str | None], order: Mapping[str, int]) -> str | None:
    known = [v for v in values if v is not None and v in order]
    return max(known, key=lambda v: order[v]) if known else None


def _maximum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def combine_exploitation(signals: Iterable[Exploitation]) -> Exploitation:
    """Every exploitation signal at once: any KEV, alert or ransomware use; the highest EPSS
    and SSVC values; automatable when any source says so."""
    items = list(signals)
    if len(items) == 1:
        return items[0]
    automatable = [e.ssvc_automatable for e in items if e.ssvc_automatable is not None]
    return Exploitation(
        kev=any(e.kev for e in items),
        kev_date_added=_first(e.kev_date_added for e in items),
        kev_due_date=_first(e.kev_due_date for e in items),
        ransomware_use=any(e.ransomware_use for e in items),
        certfr_alert=any(e.certfr_alert for e in items),
        epss=_maximum(e.epss for e in items),
        epss_percentile=_maximum(e.epss_percentile for e in items),
        ssvc_exploitation=_highest((e.ssvc_exploitation for e in items), _SSVC_EXPLOITATION),
        ssvc_automatable=any(automatable) if automatable else None,
        ssvc_technical_impact=_highest((e.ssvc_technical_impact for e in items), _SSVC_IMPACT),
    )


def signals_for(
    advisory: Advisory,
    enrichments: Mapping[str, Exploitation],
    related: Mapping[str, Advisory],
) -> Signals:
    """What the priority model reads for an advisory: its own exploitation signals with the
    enrichments (KEV, EPSS) of each of its CVEs; a bulletin also borrows the signals and
    CVSS of the CVE advisories of the same run that it lists."""
    exploitation = [advisory.exploitation]
    severities: list[Severity] = list(advisory.severities)
    for cve in advisory.cves:
        if cve in enrichments:
            exploitation.append(enrichments[cve])
        other = related.get(cve)
        if other is not None and other is not advisory:
            exploitation.append(other.exploitation)
            if not advisory.severities:
                severities.extend(other.severities)
    return Signals(combine_exploitation(exploitation), tuple(dict.fromkeys(severities)))
