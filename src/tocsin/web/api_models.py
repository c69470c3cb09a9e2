"""The JSON documents of the API (version 1), as Pydantic models for the OpenAPI schema.

``AssetDocument`` has exactly the shape of :func:`tocsin.inventory.export.asset_document`,
so the API, the CLI's JSON output and the exports never disagree.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tocsin.model import AssetKind, Criticality, EstablishmentType, Exposure

API_VERSION = 1


class EstablishmentDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    name: str
    type: EstablishmentType
    finess: str | None = None
    region: str | None = None


class EstablishmentList(BaseModel):
    version: int = API_VERSION
    establishments: list[EstablishmentDocument]


class AssetDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    establishment: str = Field(description="Slug of the establishment that owns the asset.")
    id: str = Field(description="The asset's id, unique within its establishment.")
    name: str
    kind: AssetKind
    vendor: str | None = None
    product: str | None = None
    version: str | None = None
    cpe: str | None = None
    purl: str | None = None
    criticality: Criticality = Field(description="How much patient safety depends on it.")
    exposure: Exposure
    function: str | None = Field(default=None, description="The care function it serves.")
    owner: str | None = None
    location: str | None = None
    tags: list[str] = Field(default_factory=list)
    vendor_key: str | None = None
    product_key: str | None = None
    source: str = Field(description="The import the asset came from.")
    updated_at: str = Field(description="ISO 8601 time of the last change.")


class AssetList(BaseModel):
    version: int = API_VERSION
    total: int = Field(description="How many assets match the filters, all pages together.")
    assets: list[AssetDocument]


class ApiError(BaseModel):
    detail: str
