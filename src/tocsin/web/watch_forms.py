"""The watch pages' filters and forms as they arrive, and the names of statuses and decisions.

The exposure list's filters are a GET form (a filtered view is a URL to bookmark or send);
the triage forms (one exposure, or several at once) are POSTs read into :class:`TriageForm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from urllib.parse import urlencode

from tocsin.model import Criticality
from tocsin.model.finding import Decision
from tocsin.store.exposure_queries import ExposureFilter
from tocsin.watch.lifecycle import Status
from tocsin.watch.suppress import SuppressionScope
from tocsin.web.filters import choice_param, page_param, text_param
from tocsin.web.i18n import N_

__all__ = [
    "DECISION_LABELS",
    "MAX_BULK",
    "STATUS_LABELS",
    "TRIAGE_TARGETS",
    "ExposureQuery",
    "TriageForm",
    "parse_exposure_query",
    "parse_triage",
]

E = TypeVar("E", Decision, Status, Criticality)
EXPOSURE_FILTERS = (
    *("establishment", "status", "decision", "criticality", "function"),
    *("asset", "advisory", "q"),
)
MAX_BULK = 200  # exposures changed by one bulk form

DECISION_LABELS: dict[str, str] = {
    Decision.ACT_NOW: N_("Act now"),
    Decision.OUT_OF_CYCLE: N_("Out of cycle"),
    Decision.SCHEDULED: N_("Scheduled"),
    Decision.TRACK: N_("Track"),
}
STATUS_LABELS: dict[str, str] = {
    Status.NEW: N_("New"),
    Status.ACKNOWLEDGED: N_("Acknowledged"),
    Status.IN_REMEDIATION: N_("In remediation"),
    Status.FIXED: N_("Fixed"),
    Status.MITIGATED: N_("Mitigated"),
    Status.RISK_ACCEPTED: N_("Risk accepted"),
    Status.FALSE_POSITIVE: N_("False positive"),
    Status.CLOSED: N_("Closed"),
}
#: What the bulk form offers (a person may also set ``mitigated`` on one exposure's page).
TRIAGE_TARGETS = (
    Status.ACKNOWLEDGED,
    Status.IN_REMEDIATION,
    Status.RISK_ACCEPTED,
    Status.FALSE_POSITIVE,
)


@dataclass(frozen=True)
class ExposureQuery:
    """The filters of the exposure list; ``params`` keeps the non-empty ones for links."""

    filter: ExposureFilter
    page: int
    params: dict[str, str]

    def query_string(self, **changes: str | int) -> str:
        values: dict[str, str] = dict(self.params)
        values.update({k: str(v) for k, v in changes.items()})
        return urlencode(values)

    def without(self, name: str) -> ExposureFilter:
        """The filter with one criterion dropped (the decision counts ignore the decision)."""
        flt = self.filter
        if name == "decision":
            return ExposureFilter(
                flt.establishments,
                flt.statuses,
                (),
                flt.criticalities,
                flt.functions,
                flt.asset,
                flt.advisory,
                flt.text,
            )
        return flt


def parse_exposure_query(params: Mapping[str, str]) -> ExposureQuery:
    """Read the filters; empty fields mean "any", unknown values are a 400."""
    establishment = text_param(params, "establishment")
    function = text_param(params, "function")
    flt = ExposureFilter(
        establishments=(establishment,) if establishment else (),
        statuses=choice_param(params, "status", Status),
        decisions=choice_param(params, "decision", Decision),
        criticalities=choice_param(params, "criticality", Criticality),
        functions=(function,) if function else (),
        asset=text_param(params, "asset"),
        advisory=text_param(params, "advisory"),
        text=text_param(params, "q"),
    )
    kept = {name: value for name in EXPOSURE_FILTERS if (value := text_param(params, name))}
    return ExposureQuery(flt, page_param(params), kept)


@dataclass(frozen=True)
class TriageForm:
    """A status change asked for one or several exposures."""

    ids: tuple[int, ...]
    status: Status
    reason: str | None
    until: date | None
    scope: SuppressionScope


def parse_triage(form: Mapping[str, object], ids: list[str]) -> TriageForm | str:
    """The form, or an English message id saying what is wrong with it."""
    try:
        numbers = tuple(dict.fromkeys(int(i) for i in ids))
    except ValueError:
        return N_("An exposure number is not valid.")
    if not numbers:
        return N_("Select at least one exposure.")
    if len(numbers) > MAX_BULK:
        return N_("Too many exposures selected at once.")
    try:
        status = Status(str(form.get("status") or ""))
    except ValueError:
        return N_("Choose a status.")
    reason = str(form.get("reason") or "").strip()[:1000] or None
    until_text = str(form.get("until") or "").strip()
    try:
        until = date.fromisoformat(until_text) if until_text else None
    except ValueError:
        return N_("The date is not valid (expected YYYY-MM-DD).")
    try:
        scope = SuppressionScope(str(form.get("scope") or SuppressionScope.ASSET.value))
    except ValueError:
        return N_("Choose the scope of the false positive.")
    return TriageForm(numbers, status, reason, until, scope)
