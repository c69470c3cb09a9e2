"""Pure domain types shared by every capability. No I/O here."""

from tocsin.model.inventory import (
    Asset,
    AssetKind,
    Criticality,
    Establishment,
    EstablishmentType,
    Exposure,
)
from tocsin.model.security import Permission, Role

__all__ = [
    "Asset",
    "AssetKind",
    "Criticality",
    "Establishment",
    "EstablishmentType",
    "Exposure",
    "Permission",
    "Role",
]
