"""Processing pipelines: which events a rule's log source means, and in which partitions.

Windows: a ``service`` adds a ``Channel`` condition (pySigma's own service → channel table),
a ``category`` adds the Sysmon (or PowerShell) ``EventID`` and ``Channel`` conditions, the
way pySigma's Windows and Sysmon pipelines do; they are built here from data because the
``pysigma-pipeline-windows``/``-sysmon`` packages still require pySigma < 2.

Routing: :data:`ROUTES` maps a Sigma log source to the store's ``source`` partition, first
match wins. Adding a log source is adding a row here (and, if its field names differ from
the Sigma taxonomy, a :data:`FIELD_MAPPINGS` entry); see docs/detect-sigma.md.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from sigma.pipelines.common import generate_windows_logsource_items
from sigma.processing.condition_expressions import parse_condition_expression
from sigma.processing.conditions import LogsourceCondition, RuleTagCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldMappingTransformation,
)
from sigma.rule import SigmaLogSource

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
POWERSHELL_CHANNELS = ["Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"]

# Sysmon event ids of the generic Windows categories (Sysmon's documented event types).
SYSMON_EVENT_IDS: dict[str, list[int]] = {
    "process_creation": [1],
    "file_change": [2],
    "network_connection": [3],
    "sysmon_status": [4, 16],
    "process_termination": [5],
    "driver_load": [6],
    "image_load": [7],
    "create_remote_thread": [8],
    "raw_access_thread": [9],
    "process_access": [10],
    "file_event": [11],
    "registry_add": [12],
    "registry_delete": [12],
    "registry_set": [13],
    "registry_rename": [14],
    "registry_event": [12, 13, 14],
    "create_stream_hash": [15],
    "pipe_created": [17, 18],
    "wmi_event": [19, 20, 21],
    "dns_query": [22],
    "file_delete": [23, 26],
    "clipboard_capture": [24],
    "process_tampering": [25],
    "file_delete_detected": [26],
    "file_block_executable": [27],
    "file_block_shredding": [28],
    "file_executable_detected": [29],
    "sysmon_error": [255],
}
# Opt-in tag: a ``process_creation`` rule with it also matches Security 4688 events (its
# ``Image``/``ParentImage`` read ``NewProcessName``/``ParentProcessName`` there). Opt-in, so
# SigmaHQ's rules (written for Sysmon, some testing ``Image: null``) are unchanged.
SECURITY_4688_TAG = "tocsin.security-4688"
SECURITY_4688_FIELDS: dict[str | None, str | list[str]] = {
    "Image": ["Image", "NewProcessName"],
    "ParentImage": ["ParentImage", "ParentProcessName"],
}
# Categories logged by PowerShell itself: (event ids, channels).
POWERSHELL_CATEGORIES: dict[str, tuple[list[int], list[str]]] = {
    "ps_script": ([4104], POWERSHELL_CHANNELS),
    "ps_module": ([4103], POWERSHELL_CHANNELS),
    "ps_classic_start": ([400], ["Windows PowerShell"]),
    "ps_classic_provider_start": ([600], ["Windows PowerShell"]),
    "ps_classic_script": ([800], ["Windows PowerShell"]),
}


@dataclass(frozen=True)
class Route:
    """Rules whose log source has these values (None: any) scan partition ``source``."""

    source: str
    product: str | None = None
    category: str | None = None
    service: str | None = None

    def matches(self, logsource: SigmaLogSource) -> bool:
        return all(
            wanted is None or (value or "").lower() == wanted
            for wanted, value in (
                (self.product, logsource.product),
                (self.category, logsource.category),
                (self.service, logsource.service),
            )
        )


ROUTES: tuple[Route, ...] = (
    Route("windows", product="windows"),
    Route("web", category="webserver"),
    Route("web", category="proxy"),
    Route("fortigate", product="fortigate"),
    Route("fortigate", product="fortios"),
    Route("linux", product="linux", service="auditd"),
    Route("linux", product="linux", category="process_creation"),
    Route("linux", product="linux", category="file_event"),
    Route("linux", product="linux", category="network_connection"),
    Route("linux", product="linux", category="file_delete"),
    Route("syslog", product="linux"),
    Route("syslog", product="syslog"),
)

# Sigma field name → contract column, per source, where they differ.
FIELD_MAPPINGS: dict[str, dict[str, str]] = {
    "web": {"c-uri": "cs-uri-stem", "c-useragent": "cs-user-agent", "r-dns": "cs-host"},
}


def source_for(logsource: SigmaLogSource) -> str | None:
    """The store partition a rule of this log source reads, or None if Tocsin has none."""
    for route in ROUTES:
        if route.matches(logsource):
            return route.source
    return None


def _category_conditions(category: str, *, tagged: bool) -> dict[str, Any]:
    """Rule conditions of a Windows category item; ``process_creation`` honours the 4688 tag."""
    logsource = LogsourceCondition(category=category, product="windows")
    if category != "process_creation":
        return {"rule_conditions": [logsource]}
    expression = "logsource and tagged" if tagged else "logsource and not tagged"
    with warnings.catch_warnings():  # pySigma calls pyparsing's deprecated parseString
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed = parse_condition_expression(expression)
    return {
        "rule_conditions": {"logsource": logsource, "tagged": RuleTagCondition(SECURITY_4688_TAG)},
        "rule_condition_expression": parsed,
    }


def _windows_items() -> list[ProcessingItem]:
    items = generate_windows_logsource_items("Channel", "{source}", "tocsin_windows_{service}")
    for category, ids in SYSMON_EVENT_IDS.items():
        items.append(
            ProcessingItem(
                identifier=f"tocsin_sysmon_{category}",
                transformation=AddConditionTransformation(
                    {"EventID": [str(i) for i in ids], "Channel": SYSMON_CHANNEL}
                ),
                **_category_conditions(category, tagged=False),
            )
        )
    for identifier, transformation in (
        ("tocsin_process_creation_4688_fields", FieldMappingTransformation(SECURITY_4688_FIELDS)),
        (
            "tocsin_process_creation_4688",
            AddConditionTransformation(
                {"EventID": ["1", "4688"], "Channel": [SYSMON_CHANNEL, "Security"]}
            ),
        ),
    ):
        items.append(
            ProcessingItem(
                identifier=identifier,
                transformation=transformation,
                **_category_conditions("process_creation", tagged=True),
            )
        )
    for category, (ids, channels) in POWERSHELL_CATEGORIES.items():
        items.append(
            ProcessingItem(
                identifier=f"tocsin_powershell_{category}",
                transformation=AddConditionTransformation(
                    {"EventID": [str(i) for i in ids], "Channel": channels}
                ),
                rule_conditions=[LogsourceCondition(category=category, product="windows")],
            )
        )
    return items


def _mapping_items() -> list[ProcessingItem]:
    items = []
    for source, mapping in FIELD_MAPPINGS.items():
        fields: dict[str | None, str | list[str]] = dict(mapping.items())
        conditions = [
            LogsourceCondition(
                product=route.product, category=route.category, service=route.service
            )
            for route in ROUTES
            if route.source == source
        ]
        items.append(
            ProcessingItem(
                identifier=f"tocsin_fields_{source}",
                transformation=FieldMappingTransformation(fields),
                rule_conditions=list(conditions),
                rule_condition_linking=any,
            )
        )
    return items


def tocsin_pipeline() -> ProcessingPipeline:
    """Every log source mapping of Tocsin, as one pySigma processing pipeline."""
    return ProcessingPipeline(
        name="Tocsin event store",
        priority=20,
        items=_windows_items() + _mapping_items(),
    )
