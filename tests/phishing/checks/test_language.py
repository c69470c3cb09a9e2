"""The language check: urgency, credentials, suspension and payment cues, French and English."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_data
from tocsin.phishing.checks.language import (
    LanguageCheck,
    bundled_cues,
    html_text,
    load_cues,
    normalise,
)
from tocsin.phishing.context import Context
from tocsin.phishing.model import Reason, Source
from tocsin.phishing.parse import iter_sources, parse_message
from tocsin.phishing.verdict import PHISHING_AT, SUSPICIOUS_AT


def _message(subject: str, text: str = "", html: str = "") -> bytes:
    head = f"From: <x@example.org>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
    if html:
        body = f"Content-Type: text/html; charset=utf-8\r\n\r\n{html}"
    else:
        body = f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    return (head + body).encode()


def _reasons(raw: bytes) -> dict[str, Reason]:
    message = parse_message(raw, Source("t.eml"))
    return {r.code: r for r in LanguageCheck().run(message, (), Context())}


def test_fake_ameli_refund() -> None:
    raw = _message(
        "=?utf-8?q?Assurance_Maladie=3A_vous_avez_droit_=C3=A0_un_remboursement?=",
        "Madame, Monsieur,\n\nAprès vérification, vous avez droit à un remboursement de "
        "87,50 €. Pour le recevoir, mettez à jour votre carte Vitale et vos coordonnées "
        "bancaires sous 48 h, faute de quoi votre dossier sera clos.\n",
    )
    reasons = _reasons(raw)
    assert reasons["language.payment"].points == 5
    assert reasons["language.payment"].detail.startswith("payment (fr)")
    # the detail quotes the message as written, accents included
    assert '"vous avez droit à"' in reasons["language.payment"].detail
    assert reasons["language.urgency"].points == 5


def test_fake_doctolib_appointment() -> None:
    html = (
        "<html><head><style>p{color:red} urgent</style></head><body>"
        "<p>Doctolib</p><p>Votre rendez-vous du 12/03 est annul&eacute;. "
        "Votre compte sera&nbsp;<b>suspendu</b> si vous ne "
        "<a href='https://doctolib-rdv.example'>confirmez votre identit&eacute;</a> "
        "imm&eacute;diatement.</p><script>var x='remboursement';</script></body></html>"
    )
    reasons = _reasons(_message("Rendez-vous annulé", html=html))
    assert '"Votre compte sera suspendu"' in reasons["language.suspension"].detail
    assert '"confirmez votre identité"' in reasons["language.credentials"].detail
    assert '"immédiatement"' in reasons["language.urgency"].detail
    assert "language.payment" not in reasons  # only in a <script>, never shown


def test_fake_hospital_it_password_reset() -> None:
    raw = _message(
        "DSI du CH: votre mot de passe expire aujourd\u2019hui",
        "Bonjour,\nPour conserver votre mot de passe, v\u00e9\u200brifiez vos identifiants "
        "sur le portail avant minuit.\nLa DSI",
    )
    reasons = _reasons(raw)
    assert '"mot de passe expire"' in reasons["language.credentials"].detail
    assert reasons["language.credentials"].points == 15
    assert "language.urgency" in reasons  # "expire aujourd'hui" with a curly apostrophe


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Please verify your account within 24 hours.", "language.credentials"),
        ("Your password expires today.", "language.credentials"),
        ("We noticed unusual sign-in activity on your Microsoft account.", "language.credentials"),
        ("Your mailbox is full: 12 pending messages.", "language.suspension"),
        ("Your account has been suspended.", "language.suspension"),
        ("Attached: the unpaid invoice for March.", "language.payment"),
        ("URGENT: reply today", "language.urgency"),
    ],
)
def test_english_cues(text: str, code: str) -> None:
    assert code in _reasons(_message("Notice", text))


def test_whole_words_only_and_plain_mail_is_quiet() -> None:
    raw = _message(
        "Compte rendu de la réunion",
        "Bonjour, voici le compte rendu. Les urgentistes (insurgents?) et le service "
        "des urgences se réunissent jeudi. Cordialement.",
    )
    assert _reasons(raw) == {}


def test_language_alone_never_reaches_phishing() -> None:
    cues = bundled_cues()
    best: dict[str, int] = {}
    for cue in cues:
        best[cue.name] = max(best.get(cue.name, 0), cue.points)
    assert sum(best.values()) < PHISHING_AT


def test_normalise_keeps_the_way_back_to_the_text() -> None:
    text = "  Vérifiez\u00a0\u00a0VOS  identi\u00adfiants "
    normalised, origin = normalise(text)
    assert normalised == "verifiez vos identifiants "
    assert text[origin[0] : origin[len("verifiez") - 1] + 1] == "Vérifiez"


def test_html_text_survives_broken_markup() -> None:
    assert "a b" in " ".join(html_text("<p>a<p>b<<!--").split())
    assert html_text("") == ""


def test_the_data_file_is_validated() -> None:
    with pytest.raises(ValueError, match="points"):
        load_cues('[cue.x]\npoints = 90\nlabel = "x"\n')
    cues = load_cues('[cue.x]\npoints = 3\nlabel = "x"\n[cue.x.en]\nphrases = ["Héllo  World"]\n')
    assert [c.lang for c in cues] == ["en"]
    assert cues[0].pattern.search("say hello world now")


# Real messages of ../shared/data/mail, looked at one by one.


def test_real_phishing_microsoft_unusual_sign_in() -> None:
    """phishing_pot sample-1002: "Microsoft account unusual signin activity"."""
    raw = Path(shared_data("mail", "phishing_pot", "email", "sample-1002.eml")).read_bytes()
    assert "unusual signin activity" in _reasons(raw)["language.credentials"].detail


def test_real_hard_ham_is_never_suspicious_on_language_alone() -> None:
    """hard-ham (legitimate marketing and newsletters): language points stay under the
    suspicious threshold on every message."""
    folder = shared_data("mail", "spamassassin", "hard-ham-1")
    for source, raw in iter_sources([folder]):
        message = parse_message(raw, source)
        points = sum(r.points for r in LanguageCheck().run(message, (), Context()))
        assert points < SUSPICIOUS_AT, source
