"""Advisory and exploitation feeds; importing this package registers the bundled ones."""

from tocsin.watch.sources import (  # noqa: F401 - importing registers each source
    certfr,
    csaf,
    cve5,
    epss,
    kev,
    nvd,
    osv,
    rss,
)
from tocsin.watch.sources.base import (
    Document,
    Enrichment,
    ParseReport,
    Record,
    Skip,
    Source,
    get_source,
    iter_documents,
    register,
    sources,
)

__all__ = [
    "Document",
    "Enrichment",
    "ParseReport",
    "Record",
    "Skip",
    "Source",
    "get_source",
    "iter_documents",
    "register",
    "sources",
]
