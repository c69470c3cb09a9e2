"""Tocsin's pySigma backend: a rule condition becomes one boolean SQL expression.

Every leaf comparison is wrapped in ``coalesce(…, false)`` so the expression is two-valued:
``NOT (x = 'a')`` is true when ``x`` is NULL (absent field), as Sigma means it. Strings
compare case-insensitively (``lower(x) = 'a'``, ``lower(x) LIKE …``) unless ``|cased``;
``%``, ``_`` and ``\\`` of rule values are escaped in LIKE patterns (``ESCAPE '\\'``).
Fields appear as tokens (see :mod:`tocsin.detect.sigma.compiled`). The SQL uses only
functions DuckDB and Spark SQL share, except the regular-expression search function, which
is a token too (``regexp_matches`` on DuckDB, ``rlike`` on Spark).
"""

from __future__ import annotations

import importlib
import re
import warnings
from typing import Any, ClassVar

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.base import Backend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError, SigmaValueError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from tocsin.detect.sigma.compiled import FULLTEXT_TOKEN, REGEX_TOKEN, RESERVED, field_token

# Longest flat OR/AND chain before it is regrouped (keeps parser recursion bounded).
MAX_FLAT = 64

_COMPARE = {
    SigmaCompareExpression.CompareOperators.LT: "<",
    SigmaCompareExpression.CompareOperators.LTE: "<=",
    SigmaCompareExpression.CompareOperators.GT: ">",
    SigmaCompareExpression.CompareOperators.GTE: ">=",
}
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def sql_string(text: str) -> str:
    """A SQL string literal (quotes doubled; reserved token characters refused)."""
    if any(char in text for char in RESERVED):
        raise SigmaValueError("value contains a reserved private-use character")
    return "'" + text.replace("'", "''") + "'"


# A regular expression whose matches are at least this long is tested after the length.
LENGTH_PREFILTER = 32
# CPython's regular-expression parser (re._parser; sre_parse before 3.11), untyped.
_re_parser: Any = importlib.import_module("re._parser")


def min_match_length(regex: str) -> int:
    """A lower bound of the length (in characters) of any text ``regex`` matches, read with
    Python's own regular-expression parser; 0 when unsure. Patterns are run by RE2 (DuckDB)
    or Java (Spark), whose syntax is close but not the same: where Python may read a
    pattern as longer than the engine does (a POSIX class ``[[:alpha:]]`` is one character
    to RE2, two to Python), or cannot read it (``\\p{L}``, ``\\Q…\\E``), the bound is 0."""
    if "[:" in regex or "\\Q" in regex:
        return 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            low = _re_parser.parse(regex).getwidth()[0]
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):
        return 0
    return int(low) if isinstance(low, int) else 0


# An OR of at least this many values, all with a non-ASCII character, tests for one first.
NON_ASCII_PREFILTER = 4
# Any character but printable ASCII, written without a backslash (same in RE2 and Java).
_NOT_ASCII = "[^ -~]"


def _non_ascii_field(cond: ConditionOR) -> str | None:
    """The field that every operand of ``cond`` compares (case-insensitively) with a string
    holding a non-ASCII character once lower-cased, or None. Any value such a comparison
    matches then holds a non-ASCII character too."""
    if len(cond.args) < NON_ASCII_PREFILTER:
        return None
    field: str | None = None
    for arg in cond.args:
        if not isinstance(arg, ConditionFieldEqualsValueExpression) or not arg.field:
            return None
        value = arg.value
        if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
            return None
        if field is None:
            field = arg.field
        elif arg.field != field:
            return None
        try:
            text = plain(value, lower=True)
        except SigmaValueError:
            return None
        if text.isascii():
            return None
    return field


def _safe(expr: str) -> str:
    return f"coalesce({expr}, false)"


def _balanced(parts: list[str], token: str) -> str:
    """``a OR b OR …`` regrouped into nested groups of at most MAX_FLAT operands."""
    while len(parts) > MAX_FLAT:
        parts = [
            "(" + f" {token} ".join(parts[i : i + MAX_FLAT]) + ")"
            for i in range(0, len(parts), MAX_FLAT)
        ]
    return "(" + f" {token} ".join(parts) + ")"


def like_pattern(value: SigmaString, lower: bool) -> tuple[str, bool]:
    """The LIKE pattern of a Sigma string and whether it has wildcards at all."""
    out: list[str] = []
    wild = False
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append("%")
            wild = True
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("_")
            wild = True
        elif isinstance(part, str):
            text = part.lower() if lower else part
            out.append(text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        else:
            raise SigmaValueError(f"unresolved placeholder {part} in value")
    return "".join(out), wild


def plain(value: SigmaString, lower: bool) -> str:
    """The literal text of a Sigma string without wildcards.

    A placeholder (``|expand`` left unresolved) is refused, never read as empty text: in a
    list of plain values pySigma hands it here directly (``field IN (…)``), and dropping it
    would make ``'%Admins%'`` match an empty field.
    """
    parts = []
    for part in value.s:
        if not isinstance(part, str) and not isinstance(part, SpecialChars):
            raise SigmaValueError(f"unresolved placeholder {part} in value")
        if isinstance(part, str):
            parts.append(part)
    text = "".join(parts)
    return text.lower() if lower else text


class TocsinSQLBackend(Backend):
    """Compiles each Sigma condition to a boolean SQL expression with field tokens."""

    name: ClassVar[str] = "Tocsin SQL"
    formats: ClassVar[dict[str, str]] = {"default": "boolean SQL expression with field tokens"}
    convert_or_as_in: ClassVar[bool] = True

    def __init__(self, processing_pipeline: ProcessingPipeline | None = None) -> None:
        super().__init__(processing_pipeline, collect_errors=False)

    # --- structure -------------------------------------------------------------------------
    def _sub(self, cond: Any, state: ConversionState) -> str:
        result = self.convert_condition(cond, state)
        if result is None:
            raise SigmaValueError("empty condition")
        return str(result)

    def convert_condition_or(self, cond: ConditionOR, state: ConversionState) -> str:
        parts = [self._sub(arg, state) for arg in cond.args]
        if not parts:
            return "false"
        if len(parts) == 1:
            return parts[0]
        ored = _balanced(parts, "OR")
        field = _non_ascii_field(cond)
        if field is None:
            return ored
        # Every value has a character outside ASCII (emoji, homoglyphs, RTLO…), and so has
        # any text one of them matches: one scan for such a character spares the rows
        # without any (most) the hundreds of LIKE patterns.
        test = _safe(f"{REGEX_TOKEN}(lower({field_token(field)}), {sql_string(_NOT_ASCII)})")
        return f"({test} AND {ored})"

    def convert_condition_and(self, cond: ConditionAND, state: ConversionState) -> str:
        parts = [self._sub(arg, state) for arg in cond.args]
        if not parts:
            return "true"
        return parts[0] if len(parts) == 1 else _balanced(parts, "AND")

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> str:
        # Operands are two-valued (every leaf is coalesced), so NOT is NULL-safe.
        return f"(NOT {self._sub(cond.args[0], state)})"

    def convert_condition_as_in_expression(
        self, cond: ConditionOR | ConditionAND, state: ConversionState
    ) -> str:
        if isinstance(cond, ConditionAND) or len(cond.args) < 2:
            return self.convert_condition_or(cond, state)  # type: ignore[arg-type]
        args = [arg for arg in cond.args if isinstance(arg, ConditionFieldEqualsValueExpression)]
        cased = [a for a in args if isinstance(a.value, SigmaCasedString)]
        if cased:
            return _balanced([self._sub(a, state) for a in args], "OR")
        values = sorted({self._eq_text(a.value) for a in args})
        column = field_token(args[0].field or "")
        if all(isinstance(a.value, SigmaNumber) for a in args):
            return _safe(f"{column} IN ({', '.join(sql_string(v) for v in values)})")
        return _safe(f"lower({column}) IN ({', '.join(sql_string(v) for v in values)})")

    @staticmethod
    def _eq_text(value: Any) -> str:
        if isinstance(value, SigmaString):
            return plain(value, lower=True)
        return str(value)

    # --- field = value ---------------------------------------------------------------------
    def _field(self, cond: ConditionFieldEqualsValueExpression) -> str:
        if not cond.field:
            raise SigmaValueError("detection item without a field name")
        return field_token(cond.field)

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaString)
        column = self._field(cond)
        pattern, wild = like_pattern(cond.value, lower=True)
        if not wild:
            return _safe(f"lower({column}) = {sql_string(plain(cond.value, lower=True))}")
        if pattern == "%":
            return _safe(f"{column} IS NOT NULL")
        return _safe(f"lower({column}) LIKE {sql_string(pattern)} ESCAPE '\\'")

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaString)
        column = self._field(cond)
        pattern, wild = like_pattern(cond.value, lower=False)
        if not wild:
            return _safe(f"{column} = {sql_string(plain(cond.value, lower=False))}")
        return _safe(f"{column} LIKE {sql_string(pattern)} ESCAPE '\\'")

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return _safe(f"{self._field(cond)} = {sql_string(str(cond.value))}")

    def convert_condition_field_eq_val_bool(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaBool)
        text = "true" if cond.value.boolean else "false"
        return _safe(f"lower({self._field(cond)}) = '{text}'")

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaRegularExpression)
        return _safe(self._regex(self._field(cond), cond.value))

    @staticmethod
    def _regex(column: str, value: SigmaRegularExpression) -> str:
        flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
        regex = str(value.regexp)
        if flags:
            regex = f"(?{flags}){regex}"
        search = f"{REGEX_TOKEN}({column}, {sql_string(regex)})"
        shortest = min_match_length(regex) if column != FULLTEXT_TOKEN else 0
        if shortest < LENGTH_PREFILTER:
            return search
        # A text shorter than any match cannot match: the length test, far cheaper than
        # the search, spares most values the regular expression ('.{1000,}').
        return f"(length({column}) >= {shortest} AND {search})"

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaCIDRExpression)
        column = self._field(cond)
        parts = []
        for prefix in cond.value.expand(wildcard="*"):
            pattern, _ = like_pattern(SigmaString(prefix), lower=True)
            parts.append(_safe(f"lower({column}) LIKE {sql_string(pattern)} ESCAPE '\\'"))
        return _balanced(parts, "OR") if len(parts) > 1 else parts[0]

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaCompareExpression)
        operator = _COMPARE[cond.value.op]
        number = cond.value.number.number
        return _safe(f"TRY_CAST({self._field(cond)} AS DOUBLE) {operator} {float(number)!r}")

    def convert_condition_field_eq_field(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaFieldReference)
        left = f"lower({self._field(cond)})"
        right = f"lower({field_token(cond.value.field)})"
        ref = cond.value
        if ref.starts_with and ref.ends_with:
            return _safe(f"instr({left}, {right}) > 0")
        if ref.starts_with:
            return _safe(f"left({left}, length({right})) = {right}")
        if ref.ends_with:
            return _safe(f"right({left}, length({right})) = {right}")
        return _safe(f"{left} = {right}")

    def convert_condition_field_eq_val_null(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"({self._field(cond)} IS NULL)"

    def convert_condition_field_exists(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"({self._field(cond)} IS NOT NULL)"

    def convert_condition_field_not_exists(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"({self._field(cond)} IS NULL)"

    def convert_condition_field_eq_val_timestamp_part(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        raise SigmaFeatureNotSupportedByBackendError("timestamp part modifiers")

    def convert_condition_field_eq_query_expr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        raise SigmaFeatureNotSupportedByBackendError("query expressions (placeholders)")

    # --- keywords: values without a field, searched in the event's full text ---------------
    def convert_condition_val(self, cond: ConditionValueExpression, state: ConversionState) -> Any:
        if isinstance(cond.value, SigmaExpansion):
            parts = [self._sub(ConditionValueExpression(v), state) for v in cond.value.values]
            return _balanced(parts, "OR")
        return super().convert_condition_val(cond, state)

    def convert_condition_val_str(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaString)
        cased = isinstance(cond.value, SigmaCasedString)
        pattern, _ = like_pattern(cond.value, lower=not cased)
        column = FULLTEXT_TOKEN if cased else f"lower({FULLTEXT_TOKEN})"
        return _safe(f"{column} LIKE {sql_string('%' + pattern + '%')} ESCAPE '\\'")

    def convert_condition_val_num(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        return _safe(f"{FULLTEXT_TOKEN} LIKE {sql_string('%' + str(cond.value) + '%')}")

    def convert_condition_val_re(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaRegularExpression)
        return _safe(self._regex(FULLTEXT_TOKEN, cond.value))

    def convert_condition_query_expr(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        raise SigmaFeatureNotSupportedByBackendError("query expressions (placeholders)")

    # --- correlations are planned by tocsin.detect.sigma.compile, not converted here -------
    def _no_correlation(self) -> Any:
        raise SigmaFeatureNotSupportedByBackendError(
            "correlation rules are compiled by tocsin.detect.sigma.compile"
        )

    def convert_correlation_event_count_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_value_count_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_temporal_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_temporal_ordered_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_extended_temporal_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_extended_temporal_ordered_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_value_sum_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_value_avg_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_value_percentile_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()

    def convert_correlation_value_median_rule(self, *args: Any, **kwargs: Any) -> Any:
        return self._no_correlation()
