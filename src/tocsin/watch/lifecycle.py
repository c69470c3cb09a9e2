"""The lifecycle of an exposure (an advisory that hits an asset), as pure rules.

Statuses, the transitions people may make and those only a match run makes, due dates from
the establishment's policy, and :func:`plan_run`, which turns what a match run found into
the changes the service writes. docs/watch-lifecycle.md explains the rules with examples.

- A new finding opens an exposure in ``new``, due ``policy.due_days(decision)`` days later.
- A finding seen again refreshes the evidence, score and decision of the same row (a CVE
  matched by name only from CVE 5 and later by CPE from NVD stays one exposure); its due
  date moves only when the decision became more urgent, and never later.
- An open exposure whose finding disappeared is ``fixed`` when the asset's inventory version
  changed (both versions known), ``closed`` when the asset left the inventory, the advisory
  was withdrawn, or it no longer matches for another reason (the reason says which).
- A fixed, closed or false-positive exposure whose finding comes back is reopened (``new``).
- A suppressed finding turns its open exposure into ``false_positive``.
- An expired risk acceptance goes back to ``acknowledged``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from tocsin.errors import UsageError
from tocsin.model.finding import Decision, Finding, MatchKind
from tocsin.watch.priority import PriorityPolicy

__all__ = [
    "OPEN_STATUSES",
    "RESOLVED_STATUSES",
    "SYSTEM",
    "SYSTEM_TRANSITIONS",
    "USER_TRANSITIONS",
    "Change",
    "DayCount",
    "ExposureState",
    "Plan",
    "RunInputs",
    "Status",
    "Timeline",
    "Upsert",
    "check_system_transition",
    "check_transition",
    "due_date",
    "open_history",
    "plan_run",
    "refreshed_due_date",
]

SYSTEM = "system"  # the actor of changes a match run makes


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_REMEDIATION = "in_remediation"
    FIXED = "fixed"  # confirmed by the inventory: the version moved past the fix
    MITIGATED = "mitigated"  # a workaround is in place (reason required)
    RISK_ACCEPTED = "risk_accepted"  # reason and expiry required
    FALSE_POSITIVE = "false_positive"  # a suppression keeps it from coming back
    CLOSED = "closed"  # no longer applies: asset removed, advisory withdrawn or changed


# Work to do: what the bulletin's chart counts as open.
OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_REMEDIATION})
# Done with: a run reopens these only if the finding comes back.
RESOLVED_STATUSES = frozenset({Status.FIXED, Status.CLOSED, Status.FALSE_POSITIVE})
_UNRESOLVED = frozenset(Status) - RESOLVED_STATUSES
_WORKFLOW = (Status.MITIGATED, Status.RISK_ACCEPTED, Status.FALSE_POSITIVE)

# What people may do. ``fixed`` and ``closed`` are only ever set by a match run, from the
# inventory and the advisories; leaving ``false_positive`` lifts the suppression it made.
USER_TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.IN_REMEDIATION, *_WORKFLOW}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_REMEDIATION, *_WORKFLOW}),
    Status.IN_REMEDIATION: frozenset({Status.ACKNOWLEDGED, *_WORKFLOW}),
    Status.MITIGATED: frozenset({Status.ACKNOWLEDGED, Status.IN_REMEDIATION, *_WORKFLOW})
    - {Status.MITIGATED},
    # risk_accepted → risk_accepted renews the acceptance with a new reason and expiry.
    Status.RISK_ACCEPTED: frozenset({Status.ACKNOWLEDGED, Status.IN_REMEDIATION, *_WORKFLOW}),
    Status.FALSE_POSITIVE: frozenset({Status.ACKNOWLEDGED}),
    Status.FIXED: frozenset(),
    Status.CLOSED: frozenset(),
}

# What a match run does: resolve, suppress, reopen, expire a risk acceptance.
SYSTEM_TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    **{s: frozenset({Status.FIXED, Status.CLOSED, Status.FALSE_POSITIVE}) for s in _UNRESOLVED},
    Status.RISK_ACCEPTED: frozenset({Status.FIXED, Status.CLOSED, Status.FALSE_POSITIVE})
    | {Status.ACKNOWLEDGED},
    **{s: frozenset({Status.NEW}) for s in RESOLVED_STATUSES},
}

_NEEDS_REASON = frozenset(_WORKFLOW)
_TAKES_UNTIL = frozenset({Status.RISK_ACCEPTED, Status.FALSE_POSITIVE})


def _refuse(label: str, current: Status, target: Status, why: str) -> UsageError:
    return UsageError(f"exposure {label}: cannot go from {current} to {target}: {why}")


def check_transition(
    label: str,
    current: Status,
    target: Status,
    *,
    reason: str | None,
    until: datetime | None,
    now: datetime,
) -> None:
    """Refuse (UsageError naming the exposure and both statuses) what a person may not do."""
    allowed = USER_TRANSITIONS[current]
    if target not in allowed:
        choices = ", ".join(sorted(allowed)) or "none (set by match runs only)"
        raise _refuse(label, current, target, f"allowed from {current}: {choices}")
    if target in _NEEDS_REASON and not (reason and reason.strip()):
        raise _refuse(label, current, target, f"{target} requires a reason")
    if target is Status.RISK_ACCEPTED:
        if until is None:
            raise _refuse(label, current, target, "risk_accepted requires an expiry date")
        if until <= now:
            raise _refuse(label, current, target, "the expiry date must be in the future")
    if until is not None and target not in _TAKES_UNTIL:
        why = "an expiry applies to risk_accepted and false_positive only"
        raise _refuse(label, current, target, why)


def check_system_transition(label: str, current: Status, target: Status) -> None:
    if target not in SYSTEM_TRANSITIONS[current]:
        raise _refuse(label, current, target, "not a change a match run makes")


# -- due dates -------------------------------------------------------------------------
def due_date(decision: Decision, policy: PriorityPolicy, today: date) -> date | None:
    """When a fix is due for an exposure opened ``today`` (None: no due date)."""
    days = policy.due_days(decision)
    return None if days is None else today + timedelta(days=days)


def refreshed_due_date(
    old_decision: Decision,
    new_decision: Decision,
    old_due: date | None,
    policy: PriorityPolicy,
    today: date,
) -> date | None:
    """The due date after a re-run: earlier when the decision became more urgent, else kept."""
    if new_decision.rank <= old_decision.rank:
        return old_due
    fresh = due_date(new_decision, policy, today)
    if fresh is None or old_due is None:
        return fresh or old_due
    return min(fresh, old_due)


# -- a match run -------------------------------------------------------------------------
@dataclass(frozen=True)
class ExposureState:
    """What the lifecycle needs to know of a stored exposure."""

    id: int
    asset_key: str
    advisory: str
    status: Status
    decision: Decision
    match: MatchKind
    due_date: date | None
    asset_version: str | None
    status_until: datetime | None = None


@dataclass(frozen=True)
class Upsert:
    """Write a finding: a new exposure (``exposure_id`` None) or a refresh of one."""

    exposure_id: int | None
    finding: Finding
    asset_version: str | None
    due_date: date | None
    upgraded: bool = False  # the match kind got stronger (e.g. name-only → cpe)


@dataclass(frozen=True)
class Change:
    """A status change a run makes (actor :data:`SYSTEM`)."""

    exposure_id: int
    from_status: Status
    to_status: Status
    reason: str


@dataclass(frozen=True)
class Plan:
    upserts: tuple[Upsert, ...]
    changes: tuple[Change, ...]

    @property
    def created(self) -> int:
        return sum(1 for u in self.upserts if u.exposure_id is None)

    @property
    def refreshed(self) -> int:
        return sum(1 for u in self.upserts if u.exposure_id is not None)

    @property
    def upgraded(self) -> int:
        return sum(1 for u in self.upserts if u.upgraded)


@dataclass(frozen=True)
class RunInputs:
    """What a run knows besides the findings."""

    versions: Mapping[str, str | None]  # asset key → inventory version, for present assets
    withdrawn: Collection[str]  # advisory ids withdrawn by every feed that states them
    policy: PriorityPolicy
    now: datetime


def plan_run(
    existing: Sequence[ExposureState],
    findings: Sequence[Finding],
    suppressed: Sequence[tuple[Finding, str]],
    inputs: RunInputs,
) -> Plan:
    """The writes that bring the stored exposures in line with one run's findings.

    ``suppressed`` are the findings a suppression covers, with the reason to record.
    """
    by_key = {(e.asset_key, e.advisory): e for e in existing}
    upserts: list[Upsert] = []
    changes: list[Change] = []
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        key = (finding.asset, finding.advisory)
        if key in seen:
            continue  # one exposure per (asset, advisory): the first (most urgent) finding
        seen.add(key)
        upsert, change = _seen(by_key.get(key), finding, inputs)
        upserts.append(upsert)
        if change is not None:
            changes.append(change)
    for finding, why in suppressed:
        key = (finding.asset, finding.advisory)
        seen.add(key)
        state = by_key.get(key)
        if state is not None and state.status not in RESOLVED_STATUSES:
            changes.append(Change(state.id, state.status, Status.FALSE_POSITIVE, why))
    for key, state in by_key.items():
        if key not in seen and state.status not in RESOLVED_STATUSES:
            changes.append(_gone(state, inputs))
    return Plan(tuple(upserts), tuple(changes))


def _seen(
    state: ExposureState | None, finding: Finding, inputs: RunInputs
) -> tuple[Upsert, Change | None]:
    today = inputs.now.astimezone(UTC).date()
    version = inputs.versions.get(finding.asset)
    if state is None:
        due = due_date(finding.decision, inputs.policy, today)
        return Upsert(None, finding, version, due), None
    upgraded = finding.match.rank > state.match.rank
    if state.status in RESOLVED_STATUSES:
        due = due_date(finding.decision, inputs.policy, today)
        return Upsert(state.id, finding, version, due, upgraded), _reopen(state, finding)
    due = refreshed_due_date(state.decision, finding.decision, state.due_date, inputs.policy, today)
    return Upsert(state.id, finding, version, due, upgraded), _expiry(state, inputs.now)


def _reopen(state: ExposureState, finding: Finding) -> Change:
    why = f"seen again: {finding.evidence}" if finding.evidence else "seen again"
    if state.status is Status.FALSE_POSITIVE:
        why = "no suppression covers it any more"
    return Change(state.id, state.status, Status.NEW, why)


def _expiry(state: ExposureState, now: datetime) -> Change | None:
    """Back to acknowledged when a risk acceptance has expired."""
    until = state.status_until
    if state.status is not Status.RISK_ACCEPTED or until is None or until > now:
        return None
    why = f"risk acceptance expired on {until.date().isoformat()}"
    return Change(state.id, state.status, Status.ACKNOWLEDGED, why)


def _gone(state: ExposureState, inputs: RunInputs) -> Change:
    """Why an unresolved exposure's finding disappeared, as a status change."""
    if state.asset_key not in inputs.versions:
        return Change(state.id, state.status, Status.CLOSED, "asset removed from the inventory")
    now_version = inputs.versions[state.asset_key]
    if state.asset_version and now_version and now_version != state.asset_version:
        reason = f"inventory version {state.asset_version} → {now_version} is not affected"
        return Change(state.id, state.status, Status.FIXED, reason)
    if state.advisory in inputs.withdrawn:
        return Change(state.id, state.status, Status.CLOSED, "advisory withdrawn")
    if state.asset_version is None and now_version:
        reason = f"version {now_version} now known and not affected"
        return Change(state.id, state.status, Status.CLOSED, reason)
    return Change(state.id, state.status, Status.CLOSED, "advisory no longer matches this asset")


# -- history for the bulletin's chart -----------------------------------------------------
@dataclass(frozen=True)
class Timeline:
    """One exposure's decision and its status changes, oldest first."""

    decision: Decision
    events: tuple[tuple[datetime, Status], ...]


@dataclass(frozen=True)
class DayCount:
    """Open exposures (new, acknowledged, in remediation) at the end of ``day``."""

    day: date
    act_now: int = 0
    out_of_cycle: int = 0
    scheduled: int = 0
    track: int = 0

    @property
    def total(self) -> int:
        return self.act_now + self.out_of_cycle + self.scheduled + self.track

    def by_decision(self, decision: Decision) -> int:
        count: int = getattr(self, decision.value)
        return count


def _open_intervals(timeline: Timeline) -> Iterable[tuple[date, date | None]]:
    """[first day open, first day no longer open) for each stretch, by UTC day."""
    start: date | None = None
    for at, status in timeline.events:
        day = at.astimezone(UTC).date()
        if status in OPEN_STATUSES and start is None:
            start = day
        elif status not in OPEN_STATUSES and start is not None:
            if day > start:
                yield start, day
            start = None
    if start is not None:
        yield start, None


def open_history(timelines: Iterable[Timeline], start: date, end: date) -> tuple[DayCount, ...]:
    """Open exposures per day and decision, from ``start`` to ``end`` inclusive.

    An exposure counts on a day when its status at the end of that day is open; its current
    decision is used for every day (decisions are not historised).
    """
    if end < start:
        return ()
    span = (end - start).days + 1
    deltas = {d: [0] * (span + 1) for d in Decision}
    for timeline in timelines:
        for first, stop in _open_intervals(timeline):
            if first > end or (stop is not None and stop <= start):
                continue
            deltas[timeline.decision][max(0, (first - start).days)] += 1
            if stop is not None and (stop - start).days <= span:
                deltas[timeline.decision][(stop - start).days] -= 1
    running = dict.fromkeys(Decision, 0)
    days: list[DayCount] = []
    for offset in range(span):
        for decision in Decision:
            running[decision] += deltas[decision][offset]
        counts = {d.value: running[d] for d in Decision}
        days.append(DayCount(start + timedelta(days=offset), **counts))
    return tuple(days)
