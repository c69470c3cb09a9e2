"""Office documents: VBA and Excel 4 (XLM) macros with their auto-exec triggers and
suspicious keywords (oletools' olevba), remote templates and other external relationships
(template injection), DDE fields, OLE objects embedded in RTF (oletools' rtfobj), and
encrypted documents. Nothing is executed; olevba and rtfobj only parse, in memory.

OOXML (.docx, .xlsm…) is read here with ``zipfile`` only after the caller has refused
zip bombs (:func:`~tocsin.phishing.checks.attach_archives.open_zip`'s checks).
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile

with warnings.catch_warnings():  # olevba's pyparsing grammar uses deprecated names
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools import olevba, rtfobj  # type: ignore[import-untyped]

from tocsin.phishing.checks.attach_kinds import Findings, lists, name_of
from tocsin.phishing.links import Link
from tocsin.phishing.model import Reason

# olevba and rtfobj log what they cannot parse; that is our "unreadable" reason, not noise.
logging.getLogger("olevba").setLevel(logging.CRITICAL)
logging.getLogger("rtfobj").setLevel(logging.CRITICAL)

_XML_MEMBER_BYTES = 2 * 1024 * 1024
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>", re.I)
_ATTR = re.compile(rb'\b(Type|Target|TargetMode)\s*=\s*"([^"]*)"', re.I)
_INSTR = re.compile(rb"<w:instrText[^>]*>([^<]*)</w:instrText>|\bw:instr=\"([^\"]*)\"", re.I)
_DDE = re.compile(r"\bDDE(?:AUTO)?\b", re.I)
_RTF_DDE = re.compile(rb"\\fldinst[^}]{0,300}?\bDDE(?:AUTO)?\b", re.I)
_INJECTION = ("attachedtemplate", "oleobject", "frame", "subdocument")
_MAX_KEYWORDS = 6


def _macros(parser: object, where: str) -> list[Reason]:
    found: list[Reason] = []
    if not parser.detect_vba_macros():  # type: ignore[attr-defined]
        return found
    auto: list[str] = []
    suspicious: list[str] = []
    for kind, keyword, _description in parser.analyze_macros() or ():  # type: ignore[attr-defined]
        if kind == "AutoExec" and keyword not in auto:
            auto.append(str(keyword))
        elif kind == "Suspicious" and keyword not in suspicious:
            suspicious.append(str(keyword))
    found.append(Reason("attachment.macro", 60, f"{where}: holds VBA macros"))
    if auto:
        detail = ", ".join(auto[:_MAX_KEYWORDS])
        found.append(
            Reason("attachment.macro-autoexec", 20, f"{where}: macros run on opening ({detail})")
        )
    if suspicious:
        detail = ", ".join(suspicious[:_MAX_KEYWORDS])
        found.append(Reason("attachment.macro-suspicious", 15, f"{where}: macros use {detail}"))
    return found


def _ole_like(data: bytes, where: str, macro_name: bool) -> Findings:
    """OLE files and OOXML packages through olevba (macros, XLM, encryption)."""
    findings = Findings()
    parser = olevba.VBA_Parser(where, data=data)
    try:
        findings.reasons += _macros(parser, where)
        if parser.detect_xlm_macros():
            findings.reasons.append(
                Reason("attachment.xlm-macro", 60, f"{where}: holds Excel 4 (XLM) macro sheets")
            )
        if parser.ole_file is not None and parser.detect_is_encrypted():
            findings.reasons.append(
                Reason(
                    "attachment.office-encrypted",
                    30,
                    f"{where}: the document is password-protected (its content cannot be checked)",
                )
            )
    finally:
        parser.close()
    if macro_name and not any(r.code == "attachment.macro" for r in findings.reasons):
        findings.reasons.append(
            Reason("attachment.macro-format", 20, f"{where}: a macro-enabled Office format")
        )
    return findings


def _external(xml: bytes, where: str, findings: Findings) -> None:
    for match in _RELATIONSHIP.finditer(xml):
        attrs = {
            k.decode("ascii").lower(): v.decode("utf-8", "replace")
            for k, v in _ATTR.findall(match[0])
        }
        if attrs.get("targetmode", "").lower() != "external":
            continue
        kind = attrs.get("type", "").rpartition("/")[2].lower()
        target = attrs.get("target", "")
        if kind == "hyperlink":
            findings.links.append(Link(target, "", "office"))
        elif kind == "attachedtemplate":
            findings.links.append(Link(target, "", "office"))
            findings.reasons.append(
                Reason(
                    "attachment.remote-template",
                    60,
                    f"{where}: loads its template from {target[:200]} (template injection)",
                )
            )
        elif kind in _INJECTION:
            findings.links.append(Link(target, "", "office"))
            findings.reasons.append(
                Reason(
                    "attachment.office-external",
                    50,
                    f"{where}: loads an external {kind} from {target[:200]}",
                )
            )


def _dde(xml: bytes, where: str, findings: Findings) -> None:
    text = " ".join((a or b).decode("utf-8", "replace") for a, b in _INSTR.findall(xml))
    found = _DDE.search(" ".join(text.split()))
    if found or b"<ddeLink" in xml:
        findings.reasons.append(
            Reason("attachment.dde", 60, f"{where}: a DDE field or link runs a command")
        )


def _ooxml_parts(data: bytes, where: str) -> Findings:
    """Relationships, DDE fields and XLM macro sheets of an OOXML package."""
    findings = Findings()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for info in package.infolist()[:500]:
            name = info.filename.lower()
            if name.startswith("xl/macrosheets/") and name.endswith(".xml"):
                findings.reasons.append(
                    Reason("attachment.xlm-macro", 60, f"{where}: holds an Excel 4 macro sheet")
                )
            if not name.endswith((".rels", ".xml")) or info.file_size > _XML_MEMBER_BYTES:
                continue
            xml = package.read(info)
            if name.endswith(".rels"):
                _external(xml, where, findings)
            elif name.startswith(("word/", "xl/externallinks/")):
                _dde(xml, where, findings)
    return findings


def _rtf(data: bytes, where: str) -> Findings:
    findings = Findings()
    if _RTF_DDE.search(data[:4_000_000]):
        findings.reasons.append(
            Reason("attachment.dde", 60, f"{where}: a DDE field runs a command")
        )
    parser = rtfobj.RtfObjParser(data)
    parser.parse()
    for obj in parser.objects[:50]:
        class_name = (obj.class_name or b"").decode("latin-1", "replace").strip("\x00")
        described = f"{obj.clsid_desc or ''}".lower()
        if "equation" in class_name.lower() or "cve" in described:
            findings.reasons.append(
                Reason(
                    "attachment.exploit",
                    70,
                    f"{where}: embeds an exploit-prone OLE object ({class_name or described})",
                )
            )
        elif obj.is_package and name_of(obj.filename or "").extension in lists().executable:
            findings.reasons.append(
                Reason(
                    "attachment.embedded-executable",
                    70,
                    f"{where}: embeds the program {obj.filename}",
                )
            )
        elif obj.is_ole:
            findings.reasons.append(
                Reason("attachment.ole-object", 20, f"{where}: embeds an OLE object {class_name}")
            )
    return findings


def office_findings(data: bytes, kind: str, filename: str, where: str) -> Findings:
    """Signs in an Office document of ``kind`` "ole", "rtf" or "zip" (OOXML)."""
    macro_name = name_of(filename).extension in lists().macro_enabled
    if kind == "rtf":
        return _rtf(data, where)
    findings = _ole_like(data, where, macro_name)
    if kind == "zip":
        parts = _ooxml_parts(data, where)
        findings.reasons += [r for r in parts.reasons if r not in findings.reasons]
        findings.links += parts.links
    elif re.search(rb"D\x00?D\x00?E\x00?A\x00?U\x00?T\x00?O", data[:8_000_000]):
        findings.reasons.append(
            Reason("attachment.dde", 60, f"{where}: a DDEAUTO field runs a command")
        )
    return findings
