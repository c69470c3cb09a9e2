"""Choose rules by status, level, tags and log source (a correlation brings its rules)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from tocsin.detect.sigma.loader import Rule, RuleSet

LEVELS = ("informational", "low", "medium", "high", "critical")


def _level(rule: Rule) -> str | None:
    return rule.level.name.lower() if rule.level is not None else None


def _status(rule: Rule) -> str | None:
    return rule.status.name.lower() if rule.status is not None else None


def _logsources(rule: Rule) -> list[SigmaRule]:
    if isinstance(rule, SigmaRule):
        return [rule]
    found: list[SigmaRule] = []
    for ref in rule.rules or []:
        found.extend(_logsources(ref.rule))
    return found


@dataclass(frozen=True)
class RuleFilter:
    """Which rules to run; an empty criterion accepts everything.

    ``tags`` accepts a rule carrying any tag equal to or under one given
    (``attack.t1490`` accepts ``attack.t1490``; ``attack`` accepts every ATT&CK tag).
    """

    statuses: frozenset[str] = field(default_factory=frozenset)
    min_level: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    product: str | None = None
    category: str | None = None
    service: str | None = None

    def __post_init__(self) -> None:
        if self.min_level is not None and self.min_level not in LEVELS:
            raise ValueError(f"unknown level {self.min_level!r} (one of {', '.join(LEVELS)})")

    def accepts(self, rule: Rule) -> bool:
        if self.statuses and _status(rule) not in self.statuses:
            return False
        if self.min_level is not None:
            level = _level(rule)
            if level is None or LEVELS.index(level) < LEVELS.index(self.min_level):
                return False
        if self.tags:
            names = {str(tag).lower() for tag in rule.tags}
            if not any(n == t or n.startswith(t + ".") for n in names for t in self.tags):
                return False
        wanted = (self.product, self.category, self.service)
        if any(w is not None for w in wanted):
            return any(
                all(
                    w is None or (v or "").lower() == w.lower()
                    for w, v in zip(
                        wanted,
                        (r.logsource.product, r.logsource.category, r.logsource.service),
                        strict=True,
                    )
                )
                for r in _logsources(rule)
            )
        return True


@dataclass(frozen=True)
class Selection:
    """Selected rules: ``outputs`` raise alerts; the others only feed correlations."""

    rules: list[Rule]
    outputs: frozenset[str]
    excluded: int


def select(ruleset: RuleSet, rule_filter: RuleFilter | None = None) -> Selection:
    """The rules ``rule_filter`` accepts, plus the rules their correlations reference.

    As Sigma says, a rule referenced by a correlation raises no alert of its own unless a
    correlation referencing it has ``generate: true``.
    """
    rule_filter = rule_filter or RuleFilter()
    chosen = [rule for rule in ruleset.rules if rule_filter.accepts(rule)]
    wanted: dict[str, Rule] = {}
    outputs: set[str] = set()
    silenced: set[str] = set()
    generated: set[str] = set()

    def add(rule: Rule) -> None:
        wanted.setdefault(str(rule.id), rule)
        if isinstance(rule, SigmaCorrelationRule):
            for ref in rule.rules or []:
                target = str(ref.rule.id)
                (generated if rule.generate else silenced).add(target)
                add(ref.rule)

    for rule in chosen:
        add(rule)
        outputs.add(str(rule.id))
    outputs -= silenced - generated
    outputs |= generated
    ordered = [rule for rule in ruleset.rules if str(rule.id) in wanted]
    return Selection(ordered, frozenset(outputs), len(ruleset.rules) - len(chosen))
