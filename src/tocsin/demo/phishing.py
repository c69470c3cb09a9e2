"""The demo's reported emails: four French phishing messages and two genuine ones.

Written by our own code, deterministically (fixed dates, message ids and MIME boundaries),
into ``tocsin/data/demo/phishing``: ``python -m tocsin.demo.phishing OUT_DIR``. The demo
hospital's mail domain is ``ch-demo.example``; the phishing lures are a refund from a fake
Assurance Maladie, a fake Doctolib appointment, a fake IT password reset of the hospital and
an unpaid invoice carrying a QR code (quishing). One of them arrives as a staff report (the
lure forwarded as an attachment), as the report mailbox receives them.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from pathlib import Path

DOMAIN = "ch-demo.example"
AUTHSERV = "mx.ch-demo.example"


def _message(sender: str, subject: str, date: str, ident: str, to: str) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = f"<{ident}@demo.tocsin>"
    return message


def _fix_boundaries(message: EmailMessage, name: str) -> EmailMessage:
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"==tocsin-demo-{name}-{index}==")
    return message


def ameli() -> EmailMessage:
    message = _message(
        '"Assurance Maladie" <remboursement@ameli-remboursement.info>',
        "Votre remboursement de 148,30 € est en attente",
        "Mon, 02 Nov 2026 07:12:40 +0100", "ameli-1", f"infirmiere.dupont@{DOMAIN}",
    )  # fmt: skip
    message["Reply-To"] = "service-client@assurance-sante-fr.top"
    message.set_content(
        "Bonjour,\n\nAprès un dernier calcul, vous avez droit à un remboursement de 148,30 €.\n"
        "Votre compte sera suspendu sous 48 heures si vous ne confirmez pas vos coordonnées "
        "bancaires : http://185.234.72.10/ameli/remboursement\n\nL'Assurance Maladie"
    )
    message.add_alternative(
        "<p>Bonjour,</p><p>Après un dernier calcul, vous avez droit à un <b>remboursement de "
        "148,30 €</b>.</p><p>Votre compte sera suspendu sous 48 heures si vous ne confirmez "
        'pas vos coordonnées bancaires : <a href="http://185.234.72.10/ameli/remboursement">'
        "https://www.ameli.fr/assure/remboursements</a></p><p>L'Assurance Maladie</p>",
        subtype="html",
    )
    return message


def doctolib() -> EmailMessage:
    message = _message(
        '"Doctolib" <rendez-vous@doctolib-rdv.net>',
        "Confirmez votre rendez-vous du 5 novembre",
        "Mon, 02 Nov 2026 09:03:11 +0100", "doctolib-1", f"secretariat.cardio@{DOMAIN}",
    )  # fmt: skip
    message.set_content(
        "Votre rendez-vous du 5 novembre sera annulé faute de confirmation. "
        "Confirmez avec votre carte Vitale : doctolib.fr/confirmation"
    )
    message.add_alternative(
        "<p>Votre rendez-vous du <b>5 novembre</b> sera annulé faute de confirmation.</p>"
        '<p><a href="https://doctolib-confirmation.web.app/rdv?id=88412">doctolib.fr/'
        "confirmation</a></p><p>Munissez-vous de votre carte Vitale.</p>",
        subtype="html",
    )
    return message


def password_reset() -> EmailMessage:
    message = _message(
        '"DSI - Service informatique" <support@ch-dem0.example>',
        "[URGENT] Votre mot de passe expire aujourd'hui",
        "Tue, 03 Nov 2026 06:45:02 +0100", "dsi-1", f"cadre.urgences@{DOMAIN}",
    )  # fmt: skip
    message.set_content(
        "Votre mot de passe de messagerie expire aujourd'hui. Pour conserver l'accès au DPI et à "
        "la messagerie, vérifiez vos identifiants avant 17 h : "
        "https://ch-demo-example.sharepoint-login.top/owa/reset\n\nLa DSI"
    )
    return message


def _qr_png(url: str) -> bytes:
    import zxingcpp
    from PIL import Image

    barcode = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode)
    pixels = zxingcpp.write_barcode_to_image(barcode, scale=4)
    height, width = pixels.shape
    buffer = io.BytesIO()
    raw = bytes(memoryview(pixels))  # type: ignore[arg-type]  # a buffer; its stubs omit it
    Image.frombytes("L", (width, height), raw).save(buffer, "PNG")
    return buffer.getvalue()


def qr_invoice() -> EmailMessage:
    message = _message(
        '"Comptabilité fournisseurs" <facturation@medi-fournitures-sante.example>',
        "Facture impayée n° 2026-4471 – relance",
        "Tue, 03 Nov 2026 14:20:55 +0100", "facture-1", f"economat@{DOMAIN}",
    )  # fmt: skip
    message.set_content(
        "Madame, Monsieur,\n\nSauf erreur de notre part, la facture n° 2026-4471 reste impayée. "
        "Pour éviter des frais de retard, réglez-la en scannant le QR code joint avec votre "
        "téléphone.\n\nService comptabilité"
    )
    message.add_attachment(
        _qr_png("https://medi-fournitures-paiement.example/f/2026-4471"),
        maintype="image", subtype="png", filename="facture-2026-4471.png",
    )  # fmt: skip
    return message


def planning() -> EmailMessage:
    message = _message(
        f'"Secrétariat de direction" <secretariat.direction@{DOMAIN}>',
        "Planning des gardes de décembre",
        "Wed, 04 Nov 2026 10:02:00 +0100", "planning-1", f"medecins@{DOMAIN}",
    )  # fmt: skip
    message["Authentication-Results"] = (
        f"{AUTHSERV}; spf=pass smtp.mailfrom={DOMAIN}; dkim=pass header.d={DOMAIN}; "
        f"dmarc=pass header.from={DOMAIN}"
    )
    message.set_content(
        "Bonjour à tous,\n\nVous trouverez le planning des gardes de décembre sur l'intranet, "
        "rubrique Affaires médicales. Merci de signaler vos échanges avant le 20 novembre.\n\n"
        "Bien cordialement,\nLe secrétariat de direction"
    )
    return message


def staff_report() -> EmailMessage:
    """A nurse forwards the fake Ameli email to the report mailbox."""
    report = _message(
        f'"Claire Dupont" <infirmiere.dupont@{DOMAIN}>',
        "TR: Votre remboursement de 148,30 € est en attente",
        "Mon, 02 Nov 2026 07:40:00 +0100", "report-1", f"signalement@{DOMAIN}",
    )  # fmt: skip
    report.set_content("Bonjour, ce message me semble suspect. Claire")
    report.add_attachment(_fix_boundaries(ameli(), "inner"))
    return report


MESSAGES = {
    "01-ameli-remboursement.eml": ameli,
    "02-doctolib-rendez-vous.eml": doctolib,
    "03-dsi-mot-de-passe.eml": password_reset,
    "04-facture-qr-code.eml": qr_invoice,
    "05-planning-gardes.eml": planning,
    "06-signalement-ameli.eml": staff_report,
}


def write_messages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in MESSAGES.items():
        path = folder / name
        path.write_bytes(_fix_boundaries(build(), name.split("-", 1)[0]).as_bytes())
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the demo's reported emails.")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    for path in write_messages(args.out):
        print(path)  # noqa: T201 - a generator script's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
