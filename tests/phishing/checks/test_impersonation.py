"""The impersonation check: brand names, executives, lookalike domains."""

from __future__ import annotations

from email.header import Header
from pathlib import Path

import pytest
from tests.conftest import shared_data

from tocsin.errors import ConfigError
from tocsin.phishing.checks.impersonation import (
    POINTS,
    ImpersonationCheck,
    bundled_brands,
    parse_brands,
)
from tocsin.phishing.context import Context
from tocsin.phishing.links import extract_links
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Source
from tocsin.phishing.parse import iter_sources, parse_message

CHECK = ImpersonationCheck()
CH = Context(own_domains=frozenset({"ch-exemple.fr"}), executives=("Direction générale", "DSI"))


def message(
    sender: str,
    subject: str = "Bonjour",
    body: str = "Bonjour,\n",
    *,
    html: bool = False,
    extra: str = "",
) -> ParsedMessage:
    kind = "text/html" if html else "text/plain"
    subject = Header(subject, "utf-8").encode() if not subject.isascii() else subject
    raw = (
        f"From: {sender}\r\nTo: agent@ch-exemple.fr\r\nSubject: {subject}\r\n{extra}"
        f"MIME-Version: 1.0\r\nContent-Type: {kind}; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode()
    return parse_message(raw, Source("t.eml"))


def codes(msg: ParsedMessage, context: Context = CH) -> dict[str, str]:
    return {r.code: r.detail for r in CHECK.run(msg, extract_links(msg), context)}


def test_fake_ameli_refund() -> None:
    msg = message(
        "=?utf-8?q?Assurance_Maladie?= <remboursement@ameli-remboursement.info>",
        "Votre remboursement de 148,20 EUR est en attente",
        "Connectez-vous sur https://ameli-remboursement.info/espace pour le recevoir.\n",
    )
    found = codes(msg)
    assert "Assurance Maladie" in found["imp.brand-name"]
    assert (
        "ameli-remboursement.info imitates ameli.fr (added words)" in found["imp.lookalike-sender"]
    )
    assert "imp.lookalike-link" in found


def test_fake_doctolib_sender_typo() -> None:
    msg = message('"Doctolib" <rdv@doctolbi.fr>', "Votre rendez-vous est annulé")
    found = codes(msg)
    assert "Doctolib" in found["imp.brand-name"]
    assert "(typo)" in found["imp.lookalike-sender"]


def test_fake_hospital_it_password_reset() -> None:
    msg = message(
        '"DSI CH Exemple" <support@ch-exemp1e.fr>',
        "Réinitialisation de votre mot de passe",
        '<p>Votre mot de passe expire. <a href="https://intranet.ch-exemp1e.fr/reset">'
        "Réinitialiser</a></p>",
        html=True,
    )
    found = codes(msg)
    assert "DSI" in found["imp.executive"]
    assert "ch-exemp1e.fr imitates ch-exemple.fr (homoglyph)" in found["imp.own-lookalike-sender"]
    assert "imp.own-lookalike-link" in found
    assert sum(POINTS[c] for c in found) >= 60  # phishing on these signs alone


def test_executive_from_inside_is_not_impersonation() -> None:
    assert codes(message('"Direction Generale" <dg@ch-exemple.fr>')) == {}
    assert "imp.executive" in codes(
        message("=?utf-8?q?Direction_g=C3=A9n=C3=A9rale?= <dg.ch@gmail.com>")
    )


def test_the_brand_itself_and_unrelated_senders_are_quiet() -> None:
    assert codes(message('"Assurance Maladie" <ne-pas-repondre@info.ameli.fr>')) == {}
    assert codes(message('"PayPal" <service@paypal.de>')) == {}
    assert codes(message('"Jean Dupont" <jean@example.org>', "Réunion de service")) == {}


def test_homoglyph_display_name_and_subject() -> None:
    found = codes(message('"PayPaI Service" <x@secure-mail.biz>'))
    assert "PayPal" in found["imp.brand-name"]
    found = codes(message("support@example.biz", "Votre colis Chronopost est bloqué"))
    assert "Chronopost" in found["imp.brand-subject"]
    found = codes(message("x@example.biz", "Y\u043eur Am\u0430zon account"))
    assert "imp.mixed-script" in found


def test_reply_to_lookalike() -> None:
    msg = message("agent@example.org", extra="Reply-To: retour@caisse-epargne-securite.com\r\n")
    assert "Reply-To domain caisse-epargne-securite.com" in codes(msg)["imp.lookalike-sender"]


def test_bundled_brands_cover_the_required_ones() -> None:
    domains = set().union(*(b.domains for b in bundled_brands()))
    for wanted in ("ameli.fr", "doctolib.fr", "mssante.fr", "esante.gouv.fr", "ars.sante.fr"):
        assert wanted in domains
    assert "onmicrosoft.com" not in domains  # anyone's tenant


def test_invalid_brands_file_says_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="brand"):
        parse_brands('[[brand]]\nname = "x"\nnames = []\n', "mine.toml")


def test_odd_input_never_raises() -> None:
    msg = message('"\u202e\U000e0100" <@@>', "\x00" * 10, "http://[::1/ http://xn--/")
    assert isinstance(codes(msg, Context()), dict)


def _real(folder: str, name: str) -> ParsedMessage:
    path = shared_data("mail", folder, name)
    return parse_message(path.read_bytes(), Source(str(path)))


def test_real_microsoft_signin_phish() -> None:
    # phishing_pot: "From: Microsoft" with no address, "unusual signin activity"
    found = codes(_real("phishing_pot/email", "sample-1002.eml"), Context())
    assert "Microsoft 365" in found["imp.brand-name"]


def test_real_onmicrosoft_tenant_sender() -> None:
    found = codes(_real("phishing_pot/email", "sample-1157.eml"), Context())
    assert "onmicrosoft.com imitates microsoft.com" in found["imp.lookalike-sender"]


def test_real_cyrillic_in_display_name() -> None:
    found = codes(_real("phishing_pot/email", "sample-173.eml"), Context())
    assert "imp.mixed-script" in found


def test_real_ham_newsletters_are_not_impersonation() -> None:
    # hard-ham: shagmail.com (contains "gmail"), Lockergnome linking to outlooksecure.com
    for name in (
        "00192.660d3367a86966f1a2a38d328215c905.txt",
        "00016.47e87c7e7f6c78738ad4fb654dbdaaac.txt",
    ):
        assert codes(_real("spamassassin/hard-ham-1", name), Context()) == {}


def test_real_nazario_paypal_lookalike_link() -> None:
    path = shared_data("mail", "nazario", "20051114.mbox")
    for source, raw in iter_sources([path]):
        if source.index == 12:
            found = codes(parse_message(raw, source), Context())
            assert "paypalllaa.biz imitates paypal.com" in found["imp.lookalike-link"]
            return
    pytest.fail("message 12 not found")
