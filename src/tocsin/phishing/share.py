"""Sharing indicators with CERT Santé or a regional CSIRT: a STIX 2.1 bundle, a MISP event.

Both are built from analyses (usually the phishing and suspicious ones) as plain JSON
documents, with no library and no network. STIX: one ``indicator`` per value (URL, domain,
IPv4/IPv6 address, sender address, attachment SHA-256) with a STIX pattern, created by an
``identity`` of the establishment, gathered in a ``report``; ids of indicators are UUIDv5 of
their pattern, so the same value shared twice keeps its id. MISP: one event with one
attribute per value (``url``, ``domain``, ``ip-dst``, ``email-src``, ``sha256``,
``email-subject``), ``to_ids`` set on what can be blocked, and a TLP tag.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tocsin.phishing.analyze import Analysis

NAMESPACE = uuid.UUID("4b0f7f2e-7f0e-4d43-9a55-3c9d1e2a7b10")  # Tocsin's, for UUIDv5 ids
TLP_MARKINGS = {  # the STIX 2.1 TLP marking-definition ids (from the specification)
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ip_kind(value: str) -> str:
    return (
        "ipv6-addr"
        if isinstance(ipaddress.ip_address(value), ipaddress.IPv6Address)
        else "ipv4-addr"
    )


def patterns(analysis: Analysis) -> list[tuple[str, str, str]]:
    """(kind, value, STIX pattern) of every indicator of ``analysis``."""
    found = analysis.indicators
    rows = [("url", v, f"[url:value = {_quote(v)}]") for v in sorted(found.urls)]
    rows += [("domain", v, f"[domain-name:value = {_quote(v)}]") for v in sorted(found.domains)]
    rows += [("ip", v, f"[{_ip_kind(v)}:value = {_quote(v)}]") for v in sorted(found.ips)]
    rows += [("sender", v, f"[email-addr:value = {_quote(v)}]") for v in sorted(found.senders)]
    rows += [("sha256", v, f"[file:hashes.'SHA-256' = {_quote(v)}]") for v in sorted(found.hashes)]
    return rows


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def stix_bundle(
    analyses: Sequence[Analysis], producer: str, *, tlp: str = "amber", now: datetime | None = None
) -> dict[str, Any]:
    """A STIX 2.1 bundle of the indicators of ``analyses``, made by ``producer``."""
    stamp = _stamp(now or datetime.now(UTC))
    identity_id = f"identity--{uuid.uuid5(NAMESPACE, 'identity:' + producer)}"
    marking = TLP_MARKINGS[tlp]
    common = {"spec_version": "2.1", "created": stamp, "modified": stamp}
    identity = {"type": "identity", "id": identity_id, **common, "name": producer,
                "identity_class": "organization", "sectors": ["healthcare"]}  # fmt: skip
    indicators: dict[str, dict[str, Any]] = {}
    for analysis in analyses:
        for kind, value, pattern in patterns(analysis):
            ident = f"indicator--{uuid.uuid5(NAMESPACE, pattern)}"
            indicators.setdefault(ident, {
                "type": "indicator", "id": ident, **common, "created_by_ref": identity_id,
                "name": f"Phishing {kind}: {value}"[:250], "pattern": pattern,
                "pattern_type": "stix", "valid_from": stamp,
                "indicator_types": ["malicious-activity"], "labels": ["phishing"],
                "object_marking_refs": [marking],
            })  # fmt: skip
    subjects = sorted({a.subject for a in analyses if a.subject})[:20]
    report = {
        "type": "report", "id": f"report--{uuid.uuid4()}", **common,
        "created_by_ref": identity_id, "name": f"Phishing reported to {producer}",
        "description": "Subjects: " + " | ".join(subjects) if subjects else "Phishing",
        "report_types": ["threat-report"], "published": stamp,
        "object_refs": list(indicators) or [identity_id], "object_marking_refs": [marking],
    }  # fmt: skip
    objects = [identity, *indicators.values(), report]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


_MISP_TYPES = {
    "url": ("url", "Network activity", True),
    "domain": ("domain", "Network activity", True),
    "ip": ("ip-dst", "Network activity", True),
    "sender": ("email-src", "Payload delivery", True),
    "sha256": ("sha256", "Payload delivery", True),
}


def misp_event(
    analyses: Sequence[Analysis], producer: str, *, tlp: str = "amber", now: datetime | None = None
) -> dict[str, Any]:
    """A MISP event (the JSON of MISP's event import) of the indicators of ``analyses``."""
    moment = now or datetime.now(UTC)
    attributes: dict[tuple[str, str], dict[str, Any]] = {}
    for analysis in analyses:
        for kind, value, _pattern in patterns(analysis):
            misp_type, category, to_ids = _MISP_TYPES[kind]
            attributes.setdefault((misp_type, value), {
                "type": misp_type, "category": category, "value": value, "to_ids": to_ids,
                "comment": f"{analysis.verdict.value} ({analysis.score}/100)",
            })  # fmt: skip
        if analysis.subject:
            attributes.setdefault(("email-subject", analysis.subject), {
                "type": "email-subject", "category": "Payload delivery",
                "value": analysis.subject[:1000], "to_ids": False, "comment": "",
            })  # fmt: skip
    event = {
        "info": f"Phishing reported to {producer} ({len(analyses)} message(s))",
        "date": moment.date().isoformat(), "threat_level_id": "2", "analysis": "2",
        "distribution": "0", "Tag": [{"name": f"tlp:{tlp}"}, {"name": "phishing"}],
        "Attribute": list(attributes.values()),
    }  # fmt: skip
    return {"Event": event}
