"""Canary files: decoy documents on a share; touching one is a critical alert.

``plant(folder, count)`` writes decoy documents under names a hospital share really has
("Planning_bloc_2026.xlsx", "Export_patients_urgences.csv"), in real minimal formats made
here (an Office Open XML workbook or document, a PDF, a CSV), filled with invented data.
A :class:`Manifest` records each one (path, SHA-256, size, mtime); ``check(manifest)``
compares the files with it. ``sigma_rules(manifest)`` writes the Sigma rules that make any
Windows object-access or Sysmon file event on a canary name critical, and the file-share
watcher (:mod:`.watcher`) raises a critical alert on any event on a canary path.

The manifest lives in ``$TOCSIN_HOME/detect/canaries.json`` by default, not in the planted
folder, so that an intruder listing the share does not learn which files are decoys.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from tocsin.errors import InputError, Location

MANIFEST_VERSION = 1
# Realistic names for a hospital file share; sorted to the top of a listing on purpose
# (ransomware usually walks folders in directory order).
CANARY_NAMES = (
    "Planning_bloc_2026.xlsx",
    "Export_patients_urgences.csv",
    "Astreintes_medecins_2026.xlsx",
    "Codes_acces_DPI.docx",
    "Comptes_rendus_radiologie_janvier.pdf",
    "Inventaire_pharmacie_PUI.csv",
    "Paie_personnel_soignant.xlsx",
    "Contrats_maintenance_biomedical.docx",
    "Dossiers_patients_cardiologie.xlsx",
    "Procedure_mode_degrade_DPI.pdf",
)
_UUID_NAMESPACE = uuid.UUID("6f9b1c52-8a53-4c4e-9d0e-2a7c0d6e4f11")


class CanaryStatus(StrEnum):
    INTACT = "intact"
    MODIFIED = "modified"  # content changed
    TOUCHED = "touched"  # same content, new modification time
    RENAMED = "renamed"  # gone, and a file of the same stem with another suffix is there
    DELETED = "deleted"


@dataclass(frozen=True)
class Canary:
    path: str
    sha256: str
    size: int
    mtime: float


@dataclass
class Manifest:
    canaries: list[Canary] = field(default_factory=list)

    def to_json(self) -> str:
        doc = {"version": MANIFEST_VERSION, "canaries": [asdict(c) for c in self.canaries]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest at ``path`` (empty when absent)."""
        if not path.exists():
            return cls()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("version") != MANIFEST_VERSION:
                raise InputError("unsupported canary manifest version", Location(str(path)))
            return cls([Canary(**item) for item in doc["canaries"]])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"invalid canary manifest: {exc}", Location(str(path))) from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(self.to_json(), encoding="utf-8")
        temp.replace(path)

    def paths(self) -> frozenset[str]:
        return frozenset(c.path for c in self.canaries)


@dataclass(frozen=True)
class CanaryCheck:
    path: str
    status: CanaryStatus
    detail: str = ""

    @property
    def critical(self) -> bool:
        return self.status is not CanaryStatus.INTACT


# --- decoy contents (pure) ------------------------------------------------------------------
_FIRST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand")
_GIVEN = ("Claire", "Louis", "Manon", "Hugo", "Camille", "Jules", "Sarah", "Nathan")
_SERVICES = ("Urgences", "Cardiologie", "Bloc A", "Radiologie", "Pédiatrie", "Réanimation")


def _rows(seed: str, count: int = 40) -> list[list[str]]:
    digest = hashlib.sha256(seed.encode()).digest()
    rows = [["IPP", "Nom", "Prénom", "Service", "Date", "Statut"]]
    for i in range(count):
        b = digest[i % len(digest)] + i
        rows.append(
            [
                f"{800_000 + b * 37 + i:07d}",
                _FIRST[b % len(_FIRST)],
                _GIVEN[(b // 3) % len(_GIVEN)],
                _SERVICES[(b // 7) % len(_SERVICES)],
                f"2026-{1 + i % 12:02d}-{1 + b % 28:02d}",
                ("programmé", "en cours", "terminé")[b % 3],
            ]
        )
    return rows


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 5, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)


def xlsx(seed: str) -> bytes:
    """A minimal valid Excel workbook (one sheet, inline strings)."""
    cells = []
    for r, row in enumerate(_rows(seed), 1):
        inner = "".join(
            f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{_xml_escape(v)}</t></is></c>'
            for c, v in enumerate(row)
        )
        cells.append(f'<row r="{r}">{inner}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return _zip(
        {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="'
                'http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxml'
                'formats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
                '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.worksheet+xml"/></Types>'
            ),
            "_rels/.rels": _RELS.format(target="xl/workbook.xml"),
            "xl/workbook.xml": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns='
                f'"{main}" xmlns:r="{rel}"><sheets><sheet name="Feuil1" sheetId="1" '
                'r:id="rId1"/></sheets></workbook>'
            ),
            "xl/_rels/workbook.xml.rels": _RELS.replace(
                "officeDocument/2006/relationships/officeDocument",
                "officeDocument/2006/relationships/worksheet",
            ).format(target="worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
                f'"{main}"><sheetData>{"".join(cells)}</sheetData></worksheet>'
            ),
        }
    )


def docx(seed: str) -> bytes:
    """A minimal valid Word document (one paragraph per line of invented data)."""
    paragraphs = "".join(
        f"<w:p><w:r><w:t>{_xml_escape(' ; '.join(row))}</w:t></w:r></w:p>"
        for row in _rows(seed, 25)
    )
    return _zip(
        {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="'
                'http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/word/document.xml" ContentType="application/vnd.openxml'
                'formats-officedocument.wordprocessingml.document.main+xml"/></Types>'
            ),
            "_rels/.rels": _RELS.format(target="word/document.xml"),
            "word/document.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document '
                'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{paragraphs}</w:body></w:document>"
            ),
        }
    )


def csv_text(seed: str) -> bytes:
    return "\n".join(";".join(row) for row in _rows(seed)).encode("utf-8") + b"\n"


def pdf(seed: str) -> bytes:
    """A minimal valid one-page PDF with a few lines of text and a correct xref table."""
    lines = [" ".join(row[:4]) for row in _rows(seed, 20)]
    text = "BT /F1 10 Tf 50 780 Td 14 TL " + " ".join(
        "(" + line.encode("ascii", "replace").decode().replace("(", "").replace(")", "") + ") '"
        for line in lines
    )
    text += " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


_MAKERS = {".xlsx": xlsx, ".docx": docx, ".csv": csv_text, ".pdf": pdf}


def decoy_content(name: str) -> bytes:
    """The decoy document for ``name``, in the format its extension says."""
    maker = _MAKERS.get(Path(name).suffix.lower())
    if maker is None:
        raise ValueError(f"no decoy format for {name}")
    return maker(name)


def canary_names(count: int) -> list[str]:
    """``count`` names; past the list, a year suffix keeps them realistic and distinct."""
    names = []
    for i in range(count):
        base = CANARY_NAMES[i % len(CANARY_NAMES)]
        if i >= len(CANARY_NAMES):
            stem, dot, ext = base.rpartition(".")
            base = f"{stem}_v{i // len(CANARY_NAMES) + 1}{dot}{ext}"
        names.append(base)
    return names


# --- plant and check (file system) ----------------------------------------------------------
def _describe(path: Path) -> Canary:
    data = path.read_bytes()
    stat = path.stat()
    return Canary(str(path.resolve()), hashlib.sha256(data).hexdigest(), len(data), stat.st_mtime)


def plant(folder: Path, count: int, manifest: Manifest) -> list[Canary]:
    """Write ``count`` decoys in ``folder`` and add them to ``manifest`` (not saved here).

    An existing file is never overwritten: its name is skipped for a later one.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if not folder.is_dir():
        raise InputError("not a folder", Location(str(folder)))
    known = manifest.paths()
    planted: list[Canary] = []
    for name in canary_names(count + 50):
        if len(planted) == count:
            break
        target = folder / name
        if target.exists() or str(target.resolve()) in known:
            continue
        temp = folder / f".{name}.tmp"
        temp.write_bytes(decoy_content(name))
        temp.replace(target)
        planted.append(_describe(target))
    manifest.canaries.extend(planted)
    return planted


def check(manifest: Manifest) -> list[CanaryCheck]:
    """Each canary's state against the manifest."""
    results = []
    for canary in manifest.canaries:
        path = Path(canary.path)
        if not path.exists():
            moved = (
                [
                    p.name
                    for p in path.parent.glob(f"{path.name}*")
                    if p.name != path.name and not p.name.startswith(".")
                ]
                if path.parent.is_dir()
                else []
            )
            if moved:
                results.append(CanaryCheck(canary.path, CanaryStatus.RENAMED, moved[0]))
            else:
                results.append(CanaryCheck(canary.path, CanaryStatus.DELETED))
            continue
        current = _describe(path)
        if current.sha256 != canary.sha256 or current.size != canary.size:
            results.append(CanaryCheck(canary.path, CanaryStatus.MODIFIED, f"size {current.size}"))
        elif current.mtime != canary.mtime:
            results.append(CanaryCheck(canary.path, CanaryStatus.TOUCHED, "same content"))
        else:
            results.append(CanaryCheck(canary.path, CanaryStatus.INTACT))
    return results


# --- Sigma rules (pure) ---------------------------------------------------------------------
def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: Iterable[str], indent: int) -> str:
    pad = " " * indent
    return "\n".join(f"{pad}- {_quote(v)}" for v in values)


def sigma_rules(manifest: Manifest) -> str:
    """Sigma rules (YAML, several documents) making any event on a canary name critical.

    Windows logs name the file as the share's server sees it (``D:\\Partage\\x.xlsx``,
    or a path relative to the share in 5145), so the rules match on the file name.
    """
    names = sorted({Path(c.path).name for c in manifest.canaries})
    if not names:
        raise ValueError("the manifest has no canaries")
    ends = _list([f"\\{n}" for n in names], 14)
    exact = _list(names, 14)
    header = (
        "status: stable\nauthor: Tocsin (generated by tocsin detect canary rule)\n"
        "tags:\n    - attack.impact\n    - attack.t1486\n    - attack.t1485\n"
        "falsepositives:\n    - A person opening a decoy by mistake: ask them, then re-plant\n"
        "level: critical\n"
    )
    sysmon = (
        "detection:\n    canary:\n        - TargetFilename|endswith:\n"
        f"{ends}\n        - TargetFilename:\n{exact}\n    condition: canary\n"
    )
    security = (
        "detection:\n    events:\n        EventID:\n            - 4656\n            - 4663\n"
        "            - 4660\n            - 5145\n    canary:\n"
        "        - ObjectName|endswith:\n"
        f"{ends}\n        - RelativeTargetName|endswith:\n{ends}\n"
        f"        - RelativeTargetName:\n{exact}\n    condition: events and canary\n"
    )
    documents = [
        ("file written", "product: windows\n    category: file_event", sysmon, 1),
        ("file deleted", "product: windows\n    category: file_delete", sysmon, 2),
        ("object accessed", "product: windows\n    service: security", security, 3),
    ]
    out = []
    for what, logsource, detection, number in documents:
        rule_id = uuid.uuid5(_UUID_NAMESPACE, f"{number}\n" + "\n".join(names))
        out.append(
            f"title: Canary file {what}\nid: {rule_id}\n"
            f"description: A decoy document planted by Tocsin was {what.split()[-1]}; "
            "no one has a reason to touch it.\n"
            f"{header}logsource:\n    {logsource}\n{detection}"
        )
    return "---\n".join(out)
