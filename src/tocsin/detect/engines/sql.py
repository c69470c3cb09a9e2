"""SQL text shared by the engines, written once per dialect difference.

Event tables have the contract's columns (``_time``, ``_host``, ``_file``, ``_record``…)
plus string field columns. ``hits``/``feed`` tables are built by the engine (see duckdb.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tocsin.detect.sigma.compiled import (
    TOKEN_CLOSE,
    TOKEN_OPEN,
    CompiledCorrelation,
    CorrelationKind,
    fields_of,
    render,
)

CONTRACT_COLUMNS = ("_time", "_host", "_source", "_file", "_record", "_message")
MESSAGE_SOURCES = frozenset({"syslog", "web", "fortigate"})
FIELD_SEPARATOR = "chr(31)"


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what differs between SQL engines."""

    name: str
    identifier_quote: str
    string_type: str
    regex_function: str
    distinct_window_count: str  # template with {expr} and {window}
    epoch_seconds: str  # template with {expr}

    def quote(self, name: str) -> str:
        q = self.identifier_quote
        return q + name.replace(q, q + q) + q

    def null(self) -> str:
        return f"CAST(NULL AS {self.string_type})"


DUCKDB = Dialect(
    name="duckdb",
    identifier_quote='"',
    string_type="VARCHAR",
    regex_function="regexp_matches",
    distinct_window_count="count(DISTINCT {expr}) OVER {window}",
    epoch_seconds="epoch({expr})",
)
SPARK = Dialect(
    name="spark",
    identifier_quote="`",
    string_type="STRING",
    regex_function="rlike",
    distinct_window_count="size(collect_set({expr}) OVER {window})",
    epoch_seconds="unix_timestamp({expr})",
)


# A field token whose name starts with LOWER_MARK stands for ``lower(field)`` (``F<name>``)
# or ``lower(full text)`` (``T``): see :func:`lowered`. Private use, refused in rules.
LOWER_MARK = "\ue002"
FULLTEXT_KEY = "\ue002T"
_LOWER_CALL = re.compile(f"lower\\({TOKEN_OPEN}(F[^{TOKEN_OPEN}{TOKEN_CLOSE}]*|T){TOKEN_CLOSE}\\)")


def lowered(template: str) -> str:
    """``template`` with each ``lower(<field>)`` and ``lower(<full text>)`` as one token, so
    an engine can read the lower-case text from a column computed once per table instead
    of lowering it again for every pattern of every rule."""
    mark = f"{TOKEN_OPEN}F{LOWER_MARK}"
    return _LOWER_CALL.sub(lambda m: f"{mark}{m.group(1)}{TOKEN_CLOSE}", template)


def lowered_names(template: str) -> set[str]:
    """The ``F<name>``/``T`` operands of ``lower`` in a :func:`lowered` template."""
    return {n[1:] for n in fields_of(template) if n.startswith(LOWER_MARK)}


def _loose(name: str) -> str:
    return name.replace(" ", "").lower()


class ColumnResolver:
    """Resolves rule field tokens against the columns one scanned table really has.

    A field resolves to the column of that exact name, else of that name in another case,
    else of that name once spaces are removed (Windows Defender's EventData says
    ``Threat Name`` where Sigma rules say ``ThreatName``), else to NULL.
    """

    def __init__(
        self,
        dialect: Dialect,
        columns: Iterable[str],
        source: str,
        derived: Mapping[str, str] | None = None,
    ) -> None:
        self.dialect = dialect
        # lower() of a column (or of FULLTEXT_KEY) → the table column that already holds it
        self.derived = dict(derived or {})
        self.columns = list(columns)
        self._lower = {c.lower(): c for c in reversed(self.columns)}
        self._loose = {_loose(c): c for c in reversed(self.columns)}
        self.source = source

    def column(self, name: str) -> str | None:
        """The column a field name resolves to, or None."""
        if name in self.columns:
            return name
        return self._lower.get(name.lower()) or self._loose.get(_loose(name))

    def field(self, name: str) -> str:
        if name.startswith(LOWER_MARK):
            return self._lowered(name[1:])
        column = self.column(name)
        if column is None:
            return self.dialect.null()
        return self.dialect.quote(column)

    def lowered_key(self, name: str) -> str | None:
        """What ``lower(...)`` applies to for a name of :func:`lowered_names`: the resolved
        column, :data:`FULLTEXT_KEY`, or None (an absent field)."""
        return FULLTEXT_KEY if name == "T" else self.column(name[1:])

    def _lowered(self, name: str) -> str:
        key = self.lowered_key(name)
        if key is None:
            return self.dialect.null()
        if key in self.derived:
            return self.dialect.quote(self.derived[key])
        return f"lower({self.fulltext() if key == FULLTEXT_KEY else self.dialect.quote(key)})"

    def fulltext(self) -> str:
        if self.source in MESSAGE_SOURCES and "_message" in self.columns:
            return self.dialect.quote("_message")
        fields = [c for c in self.columns if c not in CONTRACT_COLUMNS]
        if not fields:
            return self.dialect.null()
        parts = ", ".join(self.dialect.quote(c) for c in fields)
        return f"concat_ws({FIELD_SEPARATOR}, {parts})"

    def condition(self, template: str) -> str:
        return render(template, self.field, self.fulltext, self.dialect.regex_function)


# --- routing: which rows a rule can match at all -------------------------------------------
_LITERAL = r"'(?:[^']|'')*'"
_TOKENS = re.compile(rf"{_LITERAL}|[()]| AND | OR ")


def _test_of(name: str) -> re.Pattern[str]:
    """``coalesce([lower(]<name>[)] = 'v', false)`` or its ``IN ('v', …)`` form."""
    token = re.escape(f"{TOKEN_OPEN}F{name}{TOKEN_CLOSE}")
    return re.compile(
        rf"coalesce\((?:lower\({token}\)|{token}) "
        rf"(?:= ({_LITERAL})|IN \(((?:{_LITERAL}, )*{_LITERAL})\)), false\)"
    )


_ROUTED = {"Channel": _test_of("Channel"), "EventID": _test_of("EventID")}


def _split_and(text: str) -> list[str]:
    """The top-level AND operands of ``text`` (outer parentheses removed); ``[text]`` when
    it is not a conjunction (a top-level OR binds looser than AND, so it stops the split)."""
    while True:
        depth, cuts, closes = 0, [], None
        for match in _TOKENS.finditer(text):
            part = match.group()
            if part == "(":
                depth += 1
            elif part == ")":
                depth -= 1
                if depth == 0 and closes is None:
                    closes = match.end()
            elif depth == 0 and part == " OR ":
                return [text]
            elif depth == 0 and part == " AND ":
                cuts.append(match.span())
        if cuts:
            bounds = [0, *(i for span in cuts for i in span), len(text)]
            return [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
        if text.startswith("(") and closes == len(text):
            text = text[1:-1]
            continue
        return [text]


def _conjuncts(text: str) -> list[str]:
    parts = _split_and(text)
    if len(parts) == 1:
        return parts
    return [leaf for part in parts for leaf in _conjuncts(part)]


@dataclass(frozen=True)
class Route:
    """The lower-case ``Channel`` and ``EventID`` values a rule requires (None: any)."""

    channels: frozenset[str] | None = None
    event_ids: frozenset[str] | None = None

    def admits(self, channel: str | None, event_id: str | None) -> bool:
        return (self.channels is None or channel in self.channels) and (
            self.event_ids is None or event_id in self.event_ids
        )


def rule_route(template: str) -> Route:
    """Which events a compiled condition can match at all, read from its top-level tests.

    Tocsin's Windows pipeline ANDs a ``Channel`` test (a service's channel, Sysmon's for a
    category) and usually an ``EventID`` test to nearly every rule. When such a test is a
    top-level conjunct, the rule cannot match an event of another channel or event id, so
    the engine runs it over those events only (``engines/duckdb.py``). A test under OR or
    NOT, or a LIKE, says nothing: that field stays None (any value).
    """
    found: dict[str, frozenset[str]] = {}
    for conjunct in _conjuncts(template):
        for name, test in _ROUTED.items():
            match = test.fullmatch(conjunct)
            if match is None:
                continue
            quoted = [match.group(1)] if match.group(1) else re.findall(_LITERAL, match.group(2))
            values = frozenset(q[1:-1].replace("''", "'").lower() for q in quoted)
            found[name] = found[name] & values if name in found else values
    return Route(found.get("Channel"), found.get("EventID"))


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hits_select(rule_id: str, condition: str, table: str) -> str:
    return (
        f"SELECT {literal(rule_id)} AS rule, _time, _host, _file, _record "  # noqa: S608
        f"FROM {table} WHERE {condition}"
    )


def feed_select(
    resolver: ColumnResolver,
    correlation: CompiledCorrelation,
    rule_id: str,
    condition: str,
    table: str,
) -> str:
    """Rows of one referenced rule with the correlation's group key and value."""
    groups = [
        f"coalesce(CAST({resolver.field(correlation.group_field(g, rule_id))} AS "
        f"{resolver.dialect.string_type}), '')"
        for g in correlation.group_by
    ]
    group = f"concat_ws({FIELD_SEPARATOR}, {', '.join(groups)})" if groups else "''"
    value = (
        resolver.field(correlation.group_field(correlation.value_field, rule_id))
        if correlation.value_field
        else resolver.dialect.null()
    )
    return (
        f"SELECT {literal(correlation.info.id)} AS corr, {literal(rule_id)} AS rule, "  # noqa: S608
        f"_time, _host, _file, _record, {group} AS _group, {value} AS _value "
        f"FROM {table} WHERE {condition}"
    )


def correlation_select(dialect: Dialect, correlation: CompiledCorrelation, feed: str) -> str:
    """Rows of ``feed`` at which the correlation's windowed count meets its condition."""
    window = (
        "(PARTITION BY _group ORDER BY _time RANGE BETWEEN "
        f"INTERVAL '{int(correlation.timespan_seconds)}' SECOND PRECEDING AND CURRENT ROW)"
    )
    if correlation.kind is CorrelationKind.EVENT_COUNT:
        measure = f"count(*) OVER {window}"
    elif correlation.kind is CorrelationKind.VALUE_COUNT:
        measure = dialect.distinct_window_count.format(expr="_value", window=window)
    else:
        measure = dialect.distinct_window_count.format(expr="rule", window=window)
    threshold = correlation.threshold
    number = str(int(threshold)) if threshold.is_integer() else repr(threshold)
    return (
        f"SELECT {literal(correlation.info.id)} AS rule, _time, _host, _file, _record FROM ("  # noqa: S608
        f"SELECT _time, _host, _file, _record, {measure} AS _n FROM {feed} "
        f"WHERE corr = {literal(correlation.info.id)} AND _time IS NOT NULL) AS windowed "
        f"WHERE _n {correlation.operator} {number}"
    )


def alert_groups(dialect: Dialect, hits: str, window_seconds: int) -> str:
    """Count, first and last per (rule, host, window)."""
    win = f"CAST(floor({dialect.epoch_seconds.format(expr='_time')} / {window_seconds}) AS BIGINT)"
    return (
        f"SELECT rule, _host, {win} AS win, count(*) AS n, min(_time) AS first, "  # noqa: S608
        f"max(_time) AS last FROM {hits} GROUP BY rule, _host, {win}"
    )


def alert_samples(dialect: Dialect, hits: str, window_seconds: int, limit: int) -> str:
    """The first ``limit`` matching events of each (rule, host, window)."""
    win = f"CAST(floor({dialect.epoch_seconds.format(expr='_time')} / {window_seconds}) AS BIGINT)"
    return (
        f"SELECT rule, _host, win, _time, _file, _record FROM ("  # noqa: S608
        f"SELECT rule, _host, {win} AS win, _time, _file, _record, row_number() OVER "
        f"(PARTITION BY rule, _host, {win} ORDER BY _time, _file, _record) AS rn "
        f"FROM {hits}) AS numbered WHERE rn <= {int(limit)}"
    )
