"""What a compiled Sigma rule is: engine-neutral SQL with field tokens, and its metadata.

A compiled condition is a boolean SQL expression in which every event field appears as a
*token* rather than as an identifier. The engine resolves each token against the columns the
scanned files really have: the quoted column when it exists, a typed NULL when it does not.
So a rule naming a field that no event carries is simply false instead of a SQL error, and
the same compiled text serves every engine (each quotes identifiers its own way).

Token syntax (private-use code points, refused in rule values at compile time):
``\\ue000F<name>\\ue001`` for a field, ``\\ue000T\\ue001`` for the full text of an event,
``\\ue000R\\ue001`` for the engine's regular-expression search function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

TOKEN_OPEN = "\ue000"  # noqa: S105 - not a password
TOKEN_CLOSE = "\ue001"  # noqa: S105
RESERVED = (TOKEN_OPEN, TOKEN_CLOSE)
_TOKEN = re.compile("\ue000([FTR])([^\ue000\ue001]*)\ue001")


def field_token(name: str) -> str:
    return f"{TOKEN_OPEN}F{name}{TOKEN_CLOSE}"


FULLTEXT_TOKEN = f"{TOKEN_OPEN}T{TOKEN_CLOSE}"
REGEX_TOKEN = f"{TOKEN_OPEN}R{TOKEN_CLOSE}"


def fields_of(template: str) -> set[str]:
    """The field names a compiled condition refers to."""
    return {m.group(2) for m in _TOKEN.finditer(template) if m.group(1) == "F"}


def uses_fulltext(template: str) -> bool:
    return FULLTEXT_TOKEN in template


def render(
    template: str,
    field: Callable[[str], str],
    fulltext: Callable[[], str],
    regex_function: str = "regexp_matches",
) -> str:
    """Replace every token by the engine's expression for it."""

    def sub(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "F":
            return field(match.group(2))
        if kind == "R":
            return regex_function
        return fulltext()

    return _TOKEN.sub(sub, template)


class CorrelationKind(Enum):
    EVENT_COUNT = "event_count"
    VALUE_COUNT = "value_count"
    TEMPORAL = "temporal"


@dataclass(frozen=True)
class RuleInfo:
    """Metadata of a rule as an alert shows it."""

    id: str
    title: str
    level: str | None
    status: str | None
    tags: tuple[str, ...]
    file: str | None

    @property
    def attack(self) -> tuple[str, ...]:
        """ATT&CK technique ids from the tags (``attack.t1059.001`` → ``T1059.001``)."""
        found = []
        for tag in self.tags:
            name = tag.removeprefix("attack.")
            if name != tag and re.fullmatch(r"t\d{4}(\.\d{3})?", name):
                found.append(name.upper())
        return tuple(found)


@dataclass(frozen=True)
class CompiledRule:
    """A detection rule: one condition over the events of one log source.

    ``output`` is false for a rule that only feeds a correlation (Sigma ``generate: false``).
    """

    info: RuleInfo
    source: str
    condition: str
    output: bool = True

    @property
    def fields(self) -> set[str]:
        return fields_of(self.condition)


@dataclass(frozen=True)
class CompiledCorrelation:
    """A correlation over the matches of other compiled rules (all of one source).

    ``group_by`` names the correlation's group fields; ``aliases`` maps, for each referenced
    rule id, an alias to the rule's own field. ``condition`` is a SQL comparison operator and
    ``threshold`` its right-hand side; the left-hand side is the windowed count.
    """

    info: RuleInfo
    source: str
    kind: CorrelationKind
    rules: tuple[str, ...]
    group_by: tuple[str, ...]
    timespan_seconds: int
    operator: str
    threshold: float
    value_field: str | None = None
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def group_field(self, alias: str, rule_id: str) -> str:
        """The event field that group field ``alias`` means in rule ``rule_id``."""
        return self.aliases.get(alias, {}).get(rule_id, alias)
