"""Compile selected Sigma rules once, to engine-neutral SQL (see compiled.py).

The processing pipeline transforms rules in place, as pySigma's backends do: compile a
loaded rule set once (load it again to convert it with another backend).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sigma.conversion.state import ConversionState
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from tocsin.detect.sigma.backend import TocsinSQLBackend
from tocsin.detect.sigma.compiled import (
    CompiledCorrelation,
    CompiledRule,
    CorrelationKind,
    RuleInfo,
)
from tocsin.detect.sigma.loader import Rule, RuleProblem, rule_file
from tocsin.detect.sigma.pipelines import source_for, tocsin_pipeline
from tocsin.detect.sigma.select import Selection

_OPERATORS = {
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.EQ: "=",
    SigmaCorrelationConditionOperator.NEQ: "<>",
}
_KINDS = {
    SigmaCorrelationType.EVENT_COUNT: CorrelationKind.EVENT_COUNT,
    SigmaCorrelationType.VALUE_COUNT: CorrelationKind.VALUE_COUNT,
    SigmaCorrelationType.TEMPORAL: CorrelationKind.TEMPORAL,
}


@dataclass
class CompiledRuleSet:
    """What the engines run, and every rule that could not be compiled (with why)."""

    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return sorted({r.source for r in self.rules})

    def rules_of(self, source: str) -> list[CompiledRule]:
        return [r for r in self.rules if r.source == source]

    def info(self) -> dict[str, RuleInfo]:
        found = {r.info.id: r.info for r in self.rules}
        found.update({c.info.id: c.info for c in self.correlations})
        return found


def rule_info(rule: Rule) -> RuleInfo:
    return RuleInfo(
        id=str(rule.id),
        title=rule.title,
        level=rule.level.name.lower() if rule.level is not None else None,
        status=rule.status.name.lower() if rule.status is not None else None,
        tags=tuple(str(tag).lower() for tag in rule.tags),
        file=rule_file(rule),
    )


class _Compiler:
    def __init__(self) -> None:
        self.backend = TocsinSQLBackend(tocsin_pipeline())
        self.backend.init_processing_pipeline()
        self.result = CompiledRuleSet()
        self.compiled: dict[str, CompiledRule] = {}

    def problem(self, rule: Rule, reason: str) -> None:
        self.result.problems.append(RuleProblem(rule_file(rule), reason, str(rule.id), rule.title))

    def rule(self, rule: SigmaRule, output: bool) -> None:
        source = source_for(rule.logsource)
        if source is None:
            logsource = rule.logsource
            self.problem(
                rule,
                "no Tocsin log source for "
                f"product={logsource.product} category={logsource.category} "
                f"service={logsource.service}",
            )
            return
        pipeline = self.backend.last_processing_pipeline
        try:
            pipeline.apply(rule)
            parts = []
            for condition in rule.detection.parsed_condition:
                state = ConversionState(processing_state=dict(pipeline.state))
                parts.append(str(self.backend.convert_condition(condition.parsed, state)))
        except SigmaError as exc:
            self.problem(rule, f"cannot compile: {exc}")
            return
        sql = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
        compiled = CompiledRule(rule_info(rule), source, sql, output)
        self.compiled[compiled.info.id] = compiled
        self.result.rules.append(compiled)

    def correlation(self, rule: SigmaCorrelationRule, output: bool) -> None:
        kind = _KINDS.get(rule.type)
        if kind is None:
            self.problem(rule, f"correlation type {rule.type.name.lower()} is not supported")
            return
        condition = rule.condition
        if not isinstance(condition, SigmaCorrelationCondition):
            self.problem(rule, "extended correlation conditions are not supported")
            return
        refs = [ref.rule for ref in rule.rules or []]
        members: list[CompiledRule] = []
        for ref in refs:
            compiled = self.compiled.get(str(ref.id))
            if compiled is None:
                why = "a correlation" if isinstance(ref, SigmaCorrelationRule) else "unusable"
                self.problem(rule, f"referenced rule {ref.id} is {why}")
                return
            members.append(compiled)
        sources = {m.source for m in members}
        if len(sources) != 1:
            self.problem(rule, f"referenced rules read several log sources: {sorted(sources)}")
            return
        value_field = None
        if kind is CorrelationKind.VALUE_COUNT:
            if not isinstance(condition.fieldref, str):
                self.problem(rule, "value_count needs exactly one condition field")
                return
            value_field = condition.fieldref
        aliases = {
            alias.alias: {str(ref.rule.id): name for ref, name in alias.mapping.items()}
            for alias in rule.aliases
        }
        self.result.correlations.append(
            CompiledCorrelation(
                info=rule_info(rule),
                source=sources.pop(),
                kind=kind,
                rules=tuple(m.info.id for m in members),
                group_by=tuple(rule.group_by or ()),
                timespan_seconds=int(rule.timespan.seconds),
                operator=_OPERATORS[condition.op],
                threshold=float(condition.count),
                value_field=value_field,
                aliases=aliases,
            )
        )
        del output  # correlations always raise alerts when selected


def compile_rules(
    rules: Selection | Iterable[Rule], outputs: frozenset[str] | None = None
) -> CompiledRuleSet:
    """Compile rules (referenced rules first, as :func:`select` orders them)."""
    if isinstance(rules, Selection):
        outputs = rules.outputs
        rules = rules.rules
    ordered = list(rules)
    compiler = _Compiler()
    # Referenced rules before the correlations that name them.
    for rule in sorted(ordered, key=lambda r: isinstance(r, SigmaCorrelationRule)):
        output = outputs is None or str(rule.id) in outputs
        if isinstance(rule, SigmaRule):
            compiler.rule(rule, output)
        else:
            compiler.correlation(rule, output)
    return compiler.result
