"""Translatable names for the values users see: criticality, exposure, kind, role."""

from __future__ import annotations

from collections.abc import Mapping

from tocsin.model import AssetKind, Criticality, EstablishmentType, Exposure, Role
from tocsin.web.i18n import N_, gettext

CRITICALITY: dict[str, str] = {
    Criticality.VITAL: N_("Vital"),
    Criticality.HIGH: N_("High"),
    Criticality.MEDIUM: N_("Medium"),
    Criticality.LOW: N_("Low"),
}
EXPOSURE: dict[str, str] = {
    Exposure.INTERNET: N_("Internet"),
    Exposure.INTERNAL: N_("Internal"),
    Exposure.ISOLATED: N_("Isolated"),
}
KIND: dict[str, str] = {
    AssetKind.SOFTWARE: N_("Software"),
    AssetKind.OS: N_("Operating system"),
    AssetKind.APPLIANCE: N_("Appliance"),
    AssetKind.MEDICAL_DEVICE: N_("Medical device"),
    AssetKind.SERVICE: N_("Service"),
}
ROLE: dict[str, str] = {
    Role.ADMIN: N_("Administrator"),
    Role.RSSI: N_("Security officer (RSSI)"),
    Role.ANALYST: N_("Analyst"),
    Role.DPO: N_("Data protection officer (DPO)"),
    Role.VIEWER: N_("Viewer"),
}
ESTABLISHMENT_TYPE: dict[str, str] = {
    EstablishmentType.CHU: N_("University hospital (CHU)"),
    EstablishmentType.CH: N_("Hospital (CH)"),
    EstablishmentType.CLINIC: N_("Clinic"),
    EstablishmentType.EHPAD: N_("Nursing home (EHPAD)"),
    EstablishmentType.PRACTICE: N_("Practice or health centre"),
    EstablishmentType.GHT: N_("Hospital group (GHT)"),
    EstablishmentType.OTHER: N_("Other"),
}
GROUPS: dict[str, Mapping[str, str]] = {
    "criticality": CRITICALITY,
    "exposure": EXPOSURE,
    "kind": KIND,
    "role": ROLE,
    "establishment_type": ESTABLISHMENT_TYPE,
}


def label(group: str, value: object) -> str:
    """The translated name of ``value`` in ``group``; unknown values are shown as they are."""
    text = str(value)
    message = GROUPS[group].get(text)
    return gettext(message) if message else text


def choices(group: str) -> list[tuple[str, str]]:
    """(value, translated name) pairs in their natural order, for select boxes."""
    return [(value, gettext(message)) for value, message in GROUPS[group].items()]
