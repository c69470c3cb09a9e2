"""Authentication-Results (RFC 8601) and ARC-Authentication-Results (RFC 8617), read and
trusted only when the establishment's own gateway wrote them.

Anyone can write an ``Authentication-Results`` header into the message they send; only the
``authserv-id`` (the first token, the name of the server that did the checks) tells whose
verdict it is, and a gateway removes incoming headers that carry its own id (RFC 8601 §5).
So a header is *trusted* only when its authserv-id is one of ``Context.authserv_ids``
(compared without case); of the trusted ones, the topmost (the last one written, by the
establishment's own gateway) decides, Authentication-Results before ARC. With no trusted
header, nothing is concluded and one informative 0-point reason ``auth.untrusted`` says which
ids were ignored.

Exchange Online (Microsoft 365) writes its Authentication-Results without an authserv-id
(``spf=pass (sender IP is …) smtp.mailfrom=…; dmarc=fail action=none header.from=…``). An
establishment whose mail arrives through Microsoft 365 lists the pseudo-id
:data:`NO_AUTHSERV_ID` (``"(none)"``) to trust those; as for the others, only the topmost is
read (a forged one sits below the gateway's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tocsin.phishing.checks.headers_domains import domain_of, is_freemail, registrable
from tocsin.phishing.context import Context
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason

NO_AUTHSERV_ID = "(none)"
MAX_RESULTS = 50  # results read from one header
_RESULTS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy"}
_ALIASES = {"hardfail": "fail"}
_ARC_INSTANCE = re.compile(r"^\s*i\s*=\s*(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class AuthResult:
    """One ``method=result`` with its properties (``header.from``, ``smtp.mailfrom``…)."""

    method: str  # spf, dkim, dmarc, arc, compauth…
    result: str  # pass, fail, softfail, neutral, none, temperror, permerror, policy
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, name: str) -> str:
        for key, value in self.properties:
            if key == name:
                return value
        return ""


@dataclass(frozen=True)
class AuthHeader:
    """One Authentication-Results or ARC-Authentication-Results header, parsed."""

    kind: str  # "authentication-results" or "arc-authentication-results"
    authserv_id: str  # "" when the header has none (Exchange Online)
    results: tuple[AuthResult, ...]


def _strip_comments(value: str) -> str:
    """``value`` without its (nested) comments; quoted strings kept, quotes removed."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            if depth == 0:
                out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
            else:
                out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            if char == '"':
                quoted = True
            else:
                out.append(char)
    return "".join(out)


def _result(segment: str) -> AuthResult | None:
    tokens = segment.replace("= ", "=").replace(" =", "=").split()
    if not tokens or "=" not in tokens[0]:
        return None
    method, _, result = tokens[0].partition("=")
    method = method.partition("/")[0].strip().lower()
    result = result.strip().lower()
    result = _ALIASES.get(result, result)
    if not method or result not in _RESULTS:
        return None
    properties = []
    for token in tokens[1:]:
        key, eq, value = token.partition("=")
        if eq and key:
            properties.append((key.lower(), value.strip().lower()))
    return AuthResult(method, result, tuple(properties))


def parse_header(kind: str, value: str) -> AuthHeader:
    """One header's authserv-id and results (odd parts skipped, never raising)."""
    segments = [s.strip() for s in _strip_comments(value).split(";")]
    if kind == "arc-authentication-results" and segments and _ARC_INSTANCE.match(segments[0]):
        segments = segments[1:]
    authserv_id = ""
    head = segments[0].split() if segments else []
    if segments and (not head or "=" not in head[0]):
        segments.pop(0)
        authserv_id = head[0].lower() if head else ""
    results = [r for r in (_result(s) for s in segments[: MAX_RESULTS + 1]) if r is not None]
    return AuthHeader(kind, authserv_id, tuple(results[:MAX_RESULTS]))


def _headers(message: ParsedMessage) -> Iterator[AuthHeader]:
    for key, value in message.headers:
        if key in ("authentication-results", "arc-authentication-results"):
            yield parse_header(key, value)


def _trusted_ids(context: Context) -> frozenset[str]:
    return frozenset(i.strip().lower() for i in context.authserv_ids if i.strip())


def trusted_header(message: ParsedMessage, context: Context) -> tuple[AuthHeader | None, list[str]]:
    """The topmost trusted header (A-R before ARC-A-R) and the ids of the ignored ones."""
    ids = _trusted_ids(context)
    ignored: list[str] = []
    found: dict[str, AuthHeader] = {}
    for header in _headers(message):
        trusted = header.authserv_id in ids or (not header.authserv_id and NO_AUTHSERV_ID in ids)
        if trusted:
            found.setdefault(header.kind, header)
        elif (shown := header.authserv_id or NO_AUTHSERV_ID) not in ignored:
            ignored.append(shown)
    chosen = found.get("authentication-results") or found.get("arc-authentication-results")
    return chosen, ignored


def _from_domain(message: ParsedMessage) -> str:
    for address in message.from_:
        if domain := domain_of(address.address):
            return domain
    return ""


def _of(results: tuple[AuthResult, ...], method: str) -> list[AuthResult]:
    return [r for r in results if r.method == method]


def _aligned(result: AuthResult, from_domain: str) -> bool:
    """A DMARC result is about the From domain: its header.from (when given) must be it."""
    said = result.prop("header.from")
    return bool(from_domain) and (not said or registrable(said) == registrable(from_domain))


def _where(header: AuthHeader) -> str:
    if not header.authserv_id:
        return f"{header.kind} without authserv-id"
    return f"{header.kind} of {header.authserv_id}"


def auth_reasons(message: ParsedMessage, context: Context) -> Iterator[Reason]:
    """The reasons of the trusted authentication results (module docstring)."""
    header, ignored = trusted_header(message, context)
    if header is None:
        if ignored:
            why = "none configured" if not context.authserv_ids else "not the establishment's"
            yield Reason(
                "auth.untrusted",
                0,
                f"authentication results of {', '.join(ignored[:5])} ignored ({why})",
            )
        return
    from_domain = _from_domain(message)
    yield from _dmarc(header, from_domain)
    yield from _spf(header)
    yield from _dkim(header)


def _dmarc(header: AuthHeader, from_domain: str) -> Iterator[Reason]:
    results = _of(header.results, "dmarc")
    if any(r.result == "fail" for r in results):
        said = next((r.prop("header.from") for r in results if r.result == "fail"), "")
        yield Reason(
            "auth.dmarc-fail",
            30,
            f"DMARC fail for {said or from_domain or 'the From domain'} ({_where(header)})",
        )
    elif not is_freemail(from_domain) and any(
        r.result == "pass" and _aligned(r, from_domain) for r in results
    ):
        yield Reason(
            "auth.dmarc-pass",
            -10,
            f"DMARC pass for {from_domain}, the From domain ({_where(header)})",
        )


def _spf(header: AuthHeader) -> Iterator[Reason]:
    results = _of(header.results, "spf")
    if not results or any(r.result == "pass" for r in results):
        return
    worst = results[0]
    mailfrom = worst.prop("smtp.mailfrom") or worst.prop("smtp.helo")
    if worst.result == "fail":
        yield Reason("auth.spf-fail", 15, f"SPF fail for {mailfrom or '?'} ({_where(header)})")
    elif worst.result == "softfail":
        yield Reason(
            "auth.spf-softfail", 5, f"SPF softfail for {mailfrom or '?'} ({_where(header)})"
        )


def _dkim(header: AuthHeader) -> Iterator[Reason]:
    results = _of(header.results, "dkim")
    if not results or any(r.result == "pass" for r in results):
        return
    failed = [r for r in results if r.result == "fail"]
    if failed:
        domain = failed[0].prop("header.d") or failed[0].prop("header.i").lstrip("@")
        yield Reason(
            "auth.dkim-fail", 10, f"DKIM signature of {domain or '?'} fails ({_where(header)})"
        )
