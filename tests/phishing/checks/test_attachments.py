"""The attachments check: programs, names, archives (bombs, passwords, nesting), disk
images, and real attachments of the corpora. Documents (Office, PDF, HTML, QR codes) are
in test_attach_documents.py."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import time
import zipfile
from collections.abc import Callable
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import shared_data

from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.checks.attachments import AttachmentsCheck
from tocsin.phishing.context import DEFAULT_CONTEXT
from tocsin.phishing.message import Attachment, ParsedMessage
from tocsin.phishing.model import Reason, Source
from tocsin.phishing.parse import iter_mbox, parse_message

PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode"
RecordProperty = Callable[[str, object], None]
LNK = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + b"\0" * 60


def attachment(
    name: str, data: bytes, content_type: str = "application/octet-stream"
) -> Attachment:
    return Attachment(name, content_type, data, len(data), hashlib.sha256(data).hexdigest())


def message(*attachments: Attachment, html: str = "") -> ParsedMessage:
    return ParsedMessage(
        source=Source("test.eml"),
        headers=(),
        subject="Votre facture",
        from_=(),
        reply_to=(),
        return_path="",
        sender=(),
        to=(),
        text="",
        html=html,
        attachments=attachments,
    )


def reasons(*attachments: Attachment, html: str = "") -> list[Reason]:
    return list(AttachmentsCheck().run(message(*attachments, html=html), (), DEFAULT_CONTEXT))


def codes(*attachments: Attachment, html: str = "") -> set[str]:
    return {r.code for r in reasons(*attachments, html=html)}


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _patch_central(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Every central-directory entry's field at ``offset`` set to ``value``."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        struct.pack_into(fmt, out, at + offset, value)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


# --- programs and names -------------------------------------------------------------------


def test_a_windows_program_is_flagged_by_its_bytes_whatever_its_name() -> None:
    found = codes(attachment("photo.jpg", PE, "image/jpeg"))
    assert {"attachment.executable", "attachment.type-mismatch"} <= found


def test_scripts_are_flagged_by_their_extension() -> None:
    for name in ("relance.js", "facture.vbs", "Scan.HTA", "note.one", "addin.xll", "run.ps1"):
        assert "attachment.executable" in codes(attachment(name, b"var x = 1;")), name


def test_double_extensions_with_spaces_are_flagged() -> None:
    found = codes(attachment("facture.pdf      .exe", b"not really"))
    assert {"attachment.double-extension", "attachment.executable"} <= found
    assert "attachment.double-extension" in codes(attachment("scan.pdf.lnk", LNK))


def test_a_right_to_left_override_hiding_the_extension_is_flagged() -> None:
    found = reasons(attachment("facture\u202efdp.exe", PE))  # shown as "factureexe.pdf"
    by_code = {r.code: r for r in found}
    assert "attachment.bidi-name" in by_code
    assert ".exe" in by_code["attachment.bidi-name"].detail
    assert "attachment.executable" in by_code


def test_a_shortcut_is_flagged_by_its_header() -> None:
    assert "attachment.executable" in codes(attachment("document", LNK))


def test_ordinary_documents_and_images_give_no_reason() -> None:
    assert codes(attachment("compte-rendu.txt", b"Bonjour,\nla reunion est a 14h.\n")) == set()
    assert codes(attachment("rapport.pdf.txt", b"plain text")) == set()


# --- archives -----------------------------------------------------------------------------


def test_a_zip_holding_a_program_is_flagged() -> None:
    found = reasons(attachment("facture.zip", zip_of({"facture.pdf.exe": PE})))
    by_code = {r.code: r for r in found}
    assert "attachment.archive-executable" in by_code
    assert "facture.zip" in by_code["attachment.archive-executable"].detail
    assert "attachment.double-extension" in by_code


def test_a_program_renamed_inside_a_zip_is_found_by_its_bytes() -> None:
    found = codes(attachment("docs.zip", zip_of({"lisezmoi.txt": PE})))
    assert "attachment.archive-executable" in found


def test_a_password_protected_zip_is_flagged() -> None:
    plain = zip_of({"facture.pdf": b"%PDF-1.4 ..."}, zipfile.ZIP_STORED)
    encrypted = _patch_central(plain, 8, "<H", 0x1)  # general purpose flag: encrypted
    found = reasons(attachment("facture.zip", encrypted))
    assert any(
        r.code == "attachment.archive-encrypted" and "facture.pdf" in r.detail for r in found
    )


def test_a_zip_declaring_10_gb_is_refused_quickly(record_property: RecordProperty) -> None:
    small = zip_of({f"part{i}.bin": b"x" * 100 for i in range(10)})
    bomb = _patch_central(small, 24, "<I", 1 << 30)  # each member declares 1 GiB
    started = time.perf_counter()
    found = codes(attachment("bomb.zip", bomb))
    elapsed = time.perf_counter() - started
    record_property("refused_ms", round(elapsed * 1000, 1))  # 10 GB-declared zip
    assert "attachment.archive-bomb" in found


def test_a_highly_compressed_member_is_refused_unread(record_property: RecordProperty) -> None:
    bomb = zip_of({"zeros.bin": bytes(20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    started = time.perf_counter()
    found = codes(attachment("archive.zip", bomb))
    record_property("refused_ms", round((time.perf_counter() - started) * 1000, 1))  # ratio bomb
    assert "attachment.archive-bomb" in found


def test_a_zip_with_thousands_of_members_is_refused_before_parsing(
    record_property: RecordProperty,
) -> None:
    many = zip_of({f"f{i}.txt": b"" for i in range(5000)}, zipfile.ZIP_STORED)
    started = time.perf_counter()
    found = codes(attachment("many.zip", many))
    record_property(
        "refused_ms", round((time.perf_counter() - started) * 1000, 1)
    )  # 5,000-member zip
    assert "attachment.archive-bomb" in found


def test_a_42_zip_style_nesting_is_refused_quickly(record_property: RecordProperty) -> None:
    layer = zip_of({"0.bin": bytes(4 * 1024 * 1024)})  # 4 MiB of zeros
    for _ in range(5):
        layer = zip_of({f"{i}.zip": layer for i in range(16)})
    started = time.perf_counter()
    found = codes(attachment("42.zip", layer))
    elapsed = time.perf_counter() - started
    record_property(
        "refused_ms", round(elapsed * 1000, 1)
    )  # 42.zip-style archive ({len(layer):,} bytes)
    assert found & {"attachment.archive-bomb", "attachment.archive-deep"}


def test_deep_nesting_is_refused(record_property: RecordProperty) -> None:
    inner = zip_of({"payload.exe": PE})
    for depth in range(20):
        inner = zip_of({f"level{depth}.zip": inner})
    started = time.perf_counter()
    found = codes(attachment("nested.zip", inner))
    record_property(
        "refused_ms", round((time.perf_counter() - started) * 1000, 1)
    )  # 20-deep archive
    assert "attachment.archive-deep" in found
    assert "attachment.archive-executable" not in found  # never reached


def test_a_gzip_keeping_a_program_name_is_flagged() -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile("invoice.exe", "wb", fileobj=buffer) as handle:
        handle.write(PE)
    found = codes(attachment("invoice.gz", buffer.getvalue()))
    assert {"attachment.archive-opaque", "attachment.archive-executable"} <= found


def test_archives_tocsin_cannot_open_are_said_so() -> None:
    assert "attachment.archive-opaque" in codes(
        attachment("a.7z", b"7z\xbc\xaf\x27\x1c" + bytes(30))
    )
    assert "attachment.archive-opaque" in codes(
        attachment("a.rar", b"Rar!\x1a\x07\x00" + bytes(30))
    )


def test_a_broken_zip_is_unreadable_not_an_error() -> None:
    broken = zip_of({"a.txt": b"hello"})[:-30]
    found = reasons(attachment("broken.zip", broken))
    assert {r.code for r in found} == {"attachment.unreadable"}
    assert all(r.points == 0 for r in found)


# --- disk images --------------------------------------------------------------------------


def _record(name: bytes, extent: int, size: int, directory: bool) -> bytes:
    length = 33 + len(name) + (1 if len(name) % 2 == 0 else 0)
    record = bytearray(length)
    record[0] = length
    struct.pack_into("<I", record, 2, extent)
    struct.pack_into("<I", record, 10, size)
    record[25] = 0x02 if directory else 0
    record[32] = len(name)
    record[33 : 33 + len(name)] = name
    return bytes(record)


def iso_with(files: dict[str, bytes]) -> bytes:
    """A minimal ISO 9660 image: a primary volume descriptor and a root directory."""
    block = 2048
    image = bytearray(block * (21 + len(files)))
    pvd = 16 * block
    image[pvd : pvd + 7] = b"\x01CD001\x01"
    struct.pack_into("<H", image, pvd + 128, block)
    image[pvd + 156 : pvd + 190] = _record(b"\x00", 20, block, True)
    directory = _record(b"\x00", 20, block, True) + _record(b"\x01", 20, block, True)
    for index, (name, data) in enumerate(files.items()):
        extent = 21 + index
        image[extent * block : extent * block + len(data)] = data
        directory += _record(f"{name};1".encode(), extent, len(data), False)
    image[20 * block : 20 * block + len(directory)] = directory
    return bytes(image)


def test_an_iso_holding_a_shortcut_is_flagged_with_its_member() -> None:
    found = reasons(attachment("FACTURE.iso", iso_with({"FACTURE.LNK": LNK, "LISEZ.TXT": b"x"})))
    by_code = {r.code: r for r in found}
    assert "attachment.disk-image" in by_code
    assert "FACTURE.LNK" in by_code["attachment.archive-executable"].detail


def test_an_iso_named_img_is_a_disk_image() -> None:
    assert "attachment.disk-image" in codes(attachment("scan.img", iso_with({})))


# --- robustness ---------------------------------------------------------------------------

_PREFIXES = [
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"{\\rtf1",
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"\x1f\x8b\x08\x08",
    b"<svg><script>",
    b"<html><script>new Blob(atob(",
    b"",
]


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from(_PREFIXES),
    tail=st.binary(max_size=600),
    name=st.sampled_from(["a.zip", "a.docx", "a.doc", "a.pdf", "a.png", "a.gz", "a.svg", "a"]),
)
def test_odd_bytes_never_raise(prefix: bytes, tail: bytes, name: str) -> None:
    for reason in reasons(attachment(name, prefix + tail)):
        assert reason.code.startswith("attachment.")


# --- through the whole analysis and on the corpora ----------------------------------------


def test_a_french_invoice_zip_with_a_program_is_phishing() -> None:
    mail = EmailMessage()
    mail["From"] = "Service Comptabilité <compta@fournisseur-medical.example>"
    mail["To"] = "secretariat@ch-exemple.fr"
    mail["Subject"] = "Facture impayée n° 2024-118"
    mail.set_content("Bonjour,\nVeuillez trouver ci-joint la facture à régler sous 48 h.\n")
    mail.add_attachment(
        zip_of({"Facture_2024-118.pdf.scr": PE}),
        maintype="application",
        subtype="zip",
        filename="Facture_2024-118.zip",
    )
    analysis = analyze_bytes(mail.as_bytes(), Source("facture.eml"))
    assert analysis.verdict.value == "phishing"
    assert any(r.code == "attachment.archive-executable" for r in analysis.reasons)


def test_nazario_worm_zips_are_found() -> None:
    path = shared_data("mail", "nazario", "phishing0.mbox")
    found: dict[int, list[Reason]] = {}
    for source, raw in iter_mbox(path):
        if source.index in (315, 363):
            parsed = parse_message(raw, source)
            found[source.index] = list(AttachmentsCheck().run(parsed, (), DEFAULT_CONTEXT))
    details = {
        i: [r.detail for r in rs if r.code == "attachment.archive-executable"]
        for i, rs in found.items()
    }
    assert any("email-text.scr" in d for d in details[315])
    assert any("instructions.exe" in d for d in details[363])


def test_ham_attachments_stay_quiet() -> None:
    """Signed mail, patches, TNEF and images of easy-ham: no attachment reason of weight
    (the one .url shortcut of easy-ham-1 aside, which is flagged on purpose)."""
    folder = shared_data("mail", "spamassassin", "easy-ham-2")
    loud = []
    for path in sorted(folder.iterdir())[:600]:
        parsed = parse_message(path.read_bytes(), Source(str(path)))
        if not parsed.attachments:
            continue
        run = AttachmentsCheck().run(parsed, (), DEFAULT_CONTEXT)
        loud += [(path.name, r.code) for r in run if r.points >= 30]
    assert loud == []
