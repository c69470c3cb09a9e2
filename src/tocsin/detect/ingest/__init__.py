"""Log ingestion: one module per format, each a streaming reader of normalised events.

``ingest(paths, store)`` reads files into the Parquet event store (docs/detect-events.md).
A format is an object with ``name``, ``priority``, ``sniff(head)`` and ``read(stream, ctx)``
(:class:`~tocsin.detect.ingest.base.LogFormat`), listed in its module's ``FORMATS`` and
registered by name in :mod:`tocsin.detect.ingest.base` (or through the
``tocsin.detect.ingest`` entry-point group).
"""

from tocsin.detect.ingest.model import Event, IngestWarning, Limits
from tocsin.detect.ingest.service import FileReport, IngestReport, ingest

__all__ = ["Event", "FileReport", "IngestReport", "IngestWarning", "Limits", "ingest"]
