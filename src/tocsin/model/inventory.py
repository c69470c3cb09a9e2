"""Establishments and their assets: what a hospital runs and how much care depends on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EstablishmentType(StrEnum):
    """Kinds of healthcare organisations (French vocabulary where users know it)."""

    CHU = "chu"  # centre hospitalier universitaire
    CH = "ch"  # centre hospitalier
    CLINIC = "clinic"  # clinique privée
    EHPAD = "ehpad"  # établissement d'hébergement pour personnes âgées dépendantes
    PRACTICE = "practice"  # cabinet, centre de santé
    GHT = "ght"  # groupement hospitalier de territoire
    OTHER = "other"


class AssetKind(StrEnum):
    SOFTWARE = "software"
    OS = "os"
    APPLIANCE = "appliance"
    MEDICAL_DEVICE = "medical_device"
    SERVICE = "service"


class Criticality(StrEnum):
    """How much patient safety depends on the asset."""

    VITAL = "vital"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """4 for vital down to 1 for low, for sorting and scoring."""
        return {"vital": 4, "high": 3, "medium": 2, "low": 1}[self.value]


class Exposure(StrEnum):
    """How reachable the asset is."""

    INTERNET = "internet"
    INTERNAL = "internal"
    ISOLATED = "isolated"

    @property
    def rank(self) -> int:
        return {"internet": 3, "internal": 2, "isolated": 1}[self.value]


# Words users write in French or English in spreadsheets, mapped to the enum values.
CRITICALITY_SYNONYMS: dict[str, Criticality] = {
    "vital": Criticality.VITAL,
    "vitale": Criticality.VITAL,
    "critical": Criticality.VITAL,
    "critique": Criticality.VITAL,
    "high": Criticality.HIGH,
    "haute": Criticality.HIGH,
    "élevée": Criticality.HIGH,
    "elevee": Criticality.HIGH,
    "forte": Criticality.HIGH,
    "medium": Criticality.MEDIUM,
    "moyenne": Criticality.MEDIUM,
    "modérée": Criticality.MEDIUM,
    "moderee": Criticality.MEDIUM,
    "low": Criticality.LOW,
    "basse": Criticality.LOW,
    "faible": Criticality.LOW,
}

EXPOSURE_SYNONYMS: dict[str, Exposure] = {
    "internet": Exposure.INTERNET,
    "exposed": Exposure.INTERNET,
    "exposé": Exposure.INTERNET,
    "expose": Exposure.INTERNET,
    "internal": Exposure.INTERNAL,
    "interne": Exposure.INTERNAL,
    "isolated": Exposure.ISOLATED,
    "isolé": Exposure.ISOLATED,
    "isole": Exposure.ISOLATED,
    "airgap": Exposure.ISOLATED,
    "air-gapped": Exposure.ISOLATED,
}

KIND_SYNONYMS: dict[str, AssetKind] = {
    "software": AssetKind.SOFTWARE,
    "logiciel": AssetKind.SOFTWARE,
    "application": AssetKind.SOFTWARE,
    "os": AssetKind.OS,
    "operating_system": AssetKind.OS,
    "operating-system": AssetKind.OS,
    "système": AssetKind.OS,
    "appliance": AssetKind.APPLIANCE,
    "équipement": AssetKind.APPLIANCE,
    "equipement": AssetKind.APPLIANCE,
    "medical_device": AssetKind.MEDICAL_DEVICE,
    "medical-device": AssetKind.MEDICAL_DEVICE,
    "dispositif_medical": AssetKind.MEDICAL_DEVICE,
    "dispositif médical": AssetKind.MEDICAL_DEVICE,
    "dm": AssetKind.MEDICAL_DEVICE,
    "biomedical": AssetKind.MEDICAL_DEVICE,
    "service": AssetKind.SERVICE,
}

# Care functions commonly used in French hospitals; free text is allowed, these are offered.
CARE_FUNCTIONS: tuple[str, ...] = (
    "urgences",
    "reanimation",
    "bloc",
    "imagerie",
    "laboratoire",
    "pharmacie",
    "hospitalisation",
    "consultations",
    "dpi",
    "administration",
    "infrastructure",
    "logistique",
    "technique",
)


@dataclass(frozen=True)
class Establishment:
    """A healthcare organisation that owns assets."""

    slug: str
    name: str
    type: EstablishmentType = EstablishmentType.CH
    finess: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Asset:
    """One thing an establishment runs: software, an OS, an appliance, a medical device."""

    id: str
    name: str
    kind: AssetKind = AssetKind.SOFTWARE
    vendor: str | None = None
    product: str | None = None
    version: str | None = None
    cpe: str | None = None
    purl: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    exposure: Exposure = Exposure.INTERNAL
    function: str | None = None
    owner: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Normalised vendor/product (lower case, CPE style), filled by inventory.normalise.
    vendor_key: str | None = None
    product_key: str | None = None

    def comparable(self) -> tuple[object, ...]:
        """The fields that define whether a re-import changed the asset."""
        return (
            self.name,
            self.kind,
            self.vendor,
            self.product,
            self.version,
            self.cpe,
            self.purl,
            self.criticality,
            self.exposure,
            self.function,
            self.owner,
            self.location,
            tuple(sorted(self.tags)),
            self.vendor_key,
            self.product_key,
        )
