"""The priority policy of an establishment: due delays per decision and two thresholds.

``GET /watch/policy?establishment=SLUG`` shows, to users who may read the watch, the
establishment's delays (days before an exposure is due, per decision), the EPSS probability
counted as a proof of concept and the match confidence below which nothing is act-now,
next to the defaults of :data:`tocsin.watch.priority.DEFAULT_POLICY`. Users with
``establishments:admin`` also get a form (``POST /watch/policy``) that goes through
:func:`tocsin.watch.triage.set_policy`, which writes the audit entry; new delays apply to
exposures opened from then on. An establishment outside the user's scope is a 404, as one
that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, HTTPException
from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.model import Permission
from tocsin.model.finding import Decision
from tocsin.store.inventory import list_establishments
from tocsin.store.tables import EstablishmentRow
from tocsin.watch import triage
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy
from tocsin.web.auth import require
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.i18n import N_
from tocsin.web.nav import NavItem, register
from tocsin.web.render import flash, render
from tocsin.web.watch_forms import DECISION_LABELS

router = page_router()  # every POST route of this router is CSRF-checked
register(NavItem("policy", N_("Priority policy"), "/watch/policy", Permission.WATCH_READ, order=25))

Reader = Annotated[Account, Depends(require(Permission.WATCH_READ))]
Admin = Annotated[Account, Depends(require(Permission.ESTABLISHMENTS_ADMIN))]

MAX_DAYS = 3650
MAX_FIELD_LENGTH = 32
DAYS_ERROR = N_("Enter a whole number of days from 0 to 3650, or leave it empty for no due date.")
RATIO_ERROR = N_("Enter a number from 0 to 1.")


@dataclass(frozen=True)
class PolicyField:
    """One setting of :class:`PriorityPolicy` as the form shows it (``name`` is both)."""

    name: str
    label: str
    kind: Literal["days", "ratio"]
    hint: str = ""


FIELDS: tuple[PolicyField, ...] = (
    PolicyField("act_now_days", DECISION_LABELS[Decision.ACT_NOW], "days"),
    PolicyField("out_of_cycle_days", DECISION_LABELS[Decision.OUT_OF_CYCLE], "days"),
    PolicyField("scheduled_days", DECISION_LABELS[Decision.SCHEDULED], "days"),
    PolicyField("track_days", DECISION_LABELS[Decision.TRACK], "days"),
    PolicyField(
        "epss_poc",
        N_("EPSS threshold for a proof of concept"),
        "ratio",
        N_("An EPSS probability at or above this counts as a public proof of concept."),
    ),
    PolicyField(
        "act_now_min_confidence",
        N_("Minimum match confidence for act now"),
        "ratio",
        N_("Below this match confidence an exposure is never act now: check the version first."),
    ),
)


def field_value(policy: PriorityPolicy, name: str) -> str:
    """A setting as it goes into the form: days as an integer, empty for no due date."""
    value = getattr(policy, name)
    return "" if value is None else str(value)


def _days(text: str) -> int | None:
    if not text:
        return None
    days = int(text)  # ValueError for anything but an integer
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(text)
    return days


def _ratio(text: str) -> float:
    ratio = float(text.replace(",", "."))  # "0,1" as French users write it
    if not 0.0 <= ratio <= 1.0:  # also refuses nan and inf
        raise ValueError(text)
    return ratio


def parse_policy(
    form: Mapping[str, object], current: PriorityPolicy
) -> tuple[PriorityPolicy, dict[str, str], dict[str, str]]:
    """The policy a form asks for, its values as typed, and an error message id per field.

    A field the form leaves out keeps its current value; an empty delay means no due date.
    """
    changes: dict[str, object] = {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in FIELDS:
        raw = form.get(field.name)
        if raw is None:
            values[field.name] = field_value(current, field.name)
            continue
        text = str(raw).strip()[:MAX_FIELD_LENGTH]
        values[field.name] = text
        try:
            changes[field.name] = _days(text) if field.kind == "days" else _ratio(text)
        except ValueError:
            errors[field.name] = DAYS_ERROR if field.kind == "days" else RATIO_ERROR
    return replace(current, **changes), values, errors  # type: ignore[arg-type]


def _establishments(
    request: Request, account: Account, slug: str
) -> tuple[list[EstablishmentRow], EstablishmentRow | None]:
    """The user's establishments and the one asked for (the first when none is asked).

    404 when ``slug`` does not exist or is outside the user's scope: the same answer.
    """
    with web_context(request).database.session() as session:
        establishments = list_establishments(session, account.scope)
    if not slug:
        return establishments, establishments[0] if establishments else None
    chosen = next((e for e in establishments if e.slug == slug), None)
    if chosen is None:
        raise HTTPException(404, "no such establishment")
    return establishments, chosen


def _page(
    request: Request,
    account: Account,
    establishments: list[EstablishmentRow],
    chosen: EstablishmentRow | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    policy = DEFAULT_POLICY
    if chosen is not None:
        policy = triage.get_policy(web_context(request).database, chosen.slug)
    context = {
        "active": "policy",
        "establishments": establishments,
        "chosen": chosen,
        "policy": policy,
        "defaults": DEFAULT_POLICY,
        "fields": FIELDS,
        "values": values or {f.name: field_value(policy, f.name) for f in FIELDS},
        "errors": errors or {},
        "can_edit": account.can(Permission.ESTABLISHMENTS_ADMIN),
        "max_days": MAX_DAYS,
    }
    return render(request, "watch_policy.html", context, status_code=status_code)


@router.get("/watch/policy")
def policy_page(request: Request, account: Reader) -> Response:
    slug = (request.query_params.get("establishment") or "").strip()
    establishments, chosen = _establishments(request, account, slug)
    return _page(request, account, establishments, chosen)


@router.post("/watch/policy")
async def change_policy(request: Request, account: Admin) -> Response:
    form = await request.form()
    slug = str(form.get("establishment") or "").strip()
    if not slug:
        raise HTTPException(404, "no such establishment")
    establishments, chosen = _establishments(request, account, slug)
    assert chosen is not None
    database = web_context(request).database
    current = triage.get_policy(database, chosen.slug)
    wanted, values, errors = parse_policy(form, current)
    if errors:
        return _page(
            request, account, establishments, chosen, values=values, errors=errors, status_code=400
        )
    if wanted == current:
        flash(request, N_("Nothing to save: the policy is unchanged."))
    else:
        triage.set_policy(database, chosen.slug, wanted, account.username)
        flash(request, N_("Priority policy saved. It applies to exposures opened from now on."))
    target = "/watch/policy?establishment=" + quote(chosen.slug, safe="")
    return RedirectResponse(target, status_code=303)
