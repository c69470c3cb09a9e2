"""The CISA Known Exploited Vulnerabilities catalogue (``known_exploited_vulnerabilities.json``).

Each catalogue entry gives two records:

- an :class:`Enrichment` for its CVE (``kev=True``, date added, due date, and
  ``ransomware_use`` when ``knownRansomwareCampaignUse`` is "Known"), which marks the CVE in
  whatever advisory another feed gives for it;
- an :class:`Advisory` (id = the CVE id, source "kev") naming the vendor and product without
  versions (``ranges=()``: KEV states none, so the matcher can only match by name). A CVE
  that no other feed describes yet (or whose record names no product) is then still found
  on the inventory, and the KEV's required action is its ``solution``.

An entry that cannot be read is skipped alone; a catalogue that lists fewer entries than its
``count`` says is reported (a truncated download). A document of another feed raises
:class:`InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar

from pydantic import Field, TypeAdapter

from tocsin.model.advisory import Advisory, AffectedProduct, Exploitation
from tocsin.watch.sources.base import Enrichment, ParseReport, Record, register
from tocsin.watch.sources.nvd import FeedModel, Lenient, Where, unique, validate_document

PROVIDER = "CISA-KEV"
_URL = re.compile(r"https?://\S+")
_CWE = re.compile(r"^CWE-\d+$")


class _Entry(FeedModel):
    cveID: Annotated[str, Field(pattern=r"^CVE-\d{4}-\d{4,19}$")]
    vendorProject: Annotated[str, Field(min_length=1)]
    product: Annotated[str, Field(min_length=1)]
    dateAdded: date
    dueDate: date | None = None
    vulnerabilityName: str = ""
    shortDescription: str = ""
    requiredAction: str = ""
    knownRansomwareCampaignUse: str = "Unknown"
    notes: str = ""
    cwes: tuple[str, ...] = ()


class _Catalogue(FeedModel):
    catalogVersion: str
    count: Annotated[int, Field(ge=0)] | None = None
    vulnerabilities: tuple[Lenient[_Entry], ...]


_CATALOGUE = TypeAdapter(_Catalogue)


@register
class KevSource:
    name: ClassVar[str] = "kev"
    description: ClassVar[str] = "CISA Known Exploited Vulnerabilities catalogue"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        catalogue = validate_document(_CATALOGUE, raw, origin, report, self.name)
        if catalogue is None:
            return
        where = Where(report, origin)
        entries = catalogue.vulnerabilities
        for _, entry in where.indexed("vulnerabilities", entries, _Entry, "catalogue entry"):
            exploitation = Exploitation(
                kev=True,
                kev_date_added=entry.dateAdded.isoformat(),
                kev_due_date=entry.dueDate.isoformat() if entry.dueDate else None,
                ransomware_use=entry.knownRansomwareCampaignUse.strip().lower() == "known",
            )
            report.parsed += 1
            yield _advisory(entry, exploitation)
            yield Enrichment(entry.cveID, exploitation, self.name)
        if catalogue.count is not None and catalogue.count > len(entries):
            where.skip(
                f"catalogue truncated: it counts {catalogue.count} entries, "
                f"the file holds {len(entries)}",
                "count",
            )


def _advisory(entry: _Entry, exploitation: Exploitation) -> Advisory:
    vendor, product = entry.vendorProject.strip(), entry.product.strip()
    return Advisory(
        id=entry.cveID,
        source="kev",
        title=entry.vulnerabilityName.strip(),
        summary=entry.shortDescription.strip(),
        published=datetime.combine(entry.dateAdded, datetime.min.time(), UTC),
        cves=(entry.cveID,),
        affected=(
            AffectedProduct(
                product=product,
                vendor=vendor,
                text=f"{vendor} {product} (CISA KEV names no versions)",
                provider=PROVIDER,
            ),
        ),
        exploitation=exploitation,
        references=unique(url.rstrip(".,;)") for url in _URL.findall(entry.notes)),
        solution=entry.requiredAction.strip() or None,
        cwes=unique(cwe.strip() for cwe in entry.cwes if _CWE.match(cwe.strip())),
    )
