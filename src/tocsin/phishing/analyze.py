"""One message from bytes to an :class:`Analysis`: parse, unwrap a report, run every check,
decide, collect indicators. Pure: no network, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tocsin.phishing.checks import CHECKS, Check
from tocsin.phishing.checks import builtin as _builtin  # noqa: F401 - registers the checks
from tocsin.phishing.context import DEFAULT_CONTEXT, Context
from tocsin.phishing.indicators import collect
from tocsin.phishing.links import Link, extract_links
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Indicators, Reason, Source, Verdict
from tocsin.phishing.parse import LIMITS, Limits, parse_message
from tocsin.phishing.verdict import PHISHING_AT, decide, score_of

ANALYSIS_VERSION = 1


@dataclass(frozen=True)
class Analysis:
    source: Source
    verdict: Verdict
    score: int
    reasons: tuple[Reason, ...]
    indicators: Indicators
    subject: str
    sender: str  # the From address of the analysed message
    reported_by: str | None  # the From of the report when the message was forwarded in one
    links: tuple[Link, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The documented JSON shape (docs/json-shapes.md, "Phishing analysis")."""
        return {
            "version": ANALYSIS_VERSION,
            "source": self.source.to_dict(),
            "verdict": self.verdict.value,
            "score": self.score,
            "reasons": [r.to_dict() for r in self.reasons],
            "indicators": self.indicators.to_dict(),
            "subject": self.subject,
            "from": self.sender,
            "reported_by": self.reported_by,
        }


def _run(
    check: Check, message: ParsedMessage, links: tuple[Link, ...], ctx: Context
) -> list[Reason]:
    try:
        return list(check.run(message, links, ctx))
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
        return [Reason("check.error", 0, f"{check.name}: {type(exc).__name__}: {exc}"[:300])]


MODEL_ALONE = "model.alone"


def _model_alone(reasons: list[Reason]) -> list[Reason]:
    """A message with no link and no attachment, that only the classifier finds phishing,
    is suspicious at most: the classifier (trained on English mail) reads little in a
    short internal note, and such a message gives the reader nothing to click or open.
    A reason with the points that bring the score under :data:`PHISHING_AT` says so."""
    positive = [r for r in reasons if r.points > 0]
    if not positive or not all(r.code.startswith("model.") for r in positive):
        return reasons
    excess = score_of(reasons) - (PHISHING_AT - 1)
    if excess <= 0:
        return reasons
    detail = "only the classifier, and no link or attachment to act on: suspicious at most"
    return [*reasons, Reason(MODEL_ALONE, -excess, detail)]


def _attached_links(message: ParsedMessage) -> tuple[Link, ...]:
    """URLs carried by attachments (PDF links, QR codes, Office remote templates), so that
    the link checks judge them and the indicators share them."""
    if not message.attachments:
        return ()
    from tocsin.phishing.checks.attachments import attachment_links

    try:
        return tuple(attachment_links(message))
    except Exception:  # noqa: BLE001 - the attachments check reports its own failures
        return ()


def analyze_message(
    message: ParsedMessage,
    context: Context = DEFAULT_CONTEXT,
    checks: Iterable[Check] = CHECKS,
    *,
    reported_by: str | None = None,
) -> Analysis:
    links = extract_links(message) + _attached_links(message)
    reasons: list[Reason] = []
    for check in checks:
        reasons.extend(_run(check, message, links, context))
    if not links and not message.attachments:
        reasons = _model_alone(reasons)
    reasons.sort(key=lambda r: (-r.points, r.code))
    score, verdict = decide(reasons)
    sender = message.sender_address
    return Analysis(
        source=message.source,
        verdict=verdict,
        score=score,
        reasons=tuple(reasons),
        indicators=collect(message, links),
        subject=message.subject,
        sender=sender.address if sender else "",
        reported_by=reported_by,
        links=links,
    )


def analyze_bytes(
    raw: bytes,
    source: Source,
    context: Context = DEFAULT_CONTEXT,
    *,
    unwrap: bool = True,
    limits: Limits = LIMITS,
) -> Analysis:
    """Parse and analyse; with ``unwrap``, a message forwarding another as an attachment
    (a staff report) is judged on the forwarded one."""
    message = parse_message(raw, source, limits)
    if unwrap and message.forwarded:
        reporter = message.sender_address
        return analyze_message(
            message.forwarded[0], context, reported_by=reporter.address if reporter else ""
        )
    return analyze_message(message, context)
