"""The phishing classifier: the shipped model, its features, its training, its check."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import shared_data
from tocsin.phishing.checks.model import (
    CONFIDENT_POINTS,
    FROM_PROBABILITY,
    MAX_POINTS,
    ModelCheck,
    points_for,
)
from tocsin.phishing.classifier import ModelError, load_model, parse_model, shipped_model
from tocsin.phishing.context import Context
from tocsin.phishing.features import SHAPE, strip_list_footers, subject_of, vectorise
from tocsin.phishing.model import Source
from tocsin.phishing.parse import iter_sources, parse_message
from tocsin.phishing.train import fit_model, is_test, probabilities
from tocsin.phishing.verdict import PHISHING_AT

AMELI_HTML = """<html><body>
<p>Assurance Maladie</p>
<p>Cher(e) assuré(e),</p>
<p>Après le calcul annuel de vos frais de santé, vous avez droit à un remboursement de
<b>187,42 €</b>. Pour le recevoir, vous devez confirmer vos coordonnées bancaires avant le
12/06 : passé ce délai, votre dossier sera clôturé et le remboursement perdu.</p>
<p><a href="http://ameli-remboursement.secure-assure.top/connexion">Accéder à mon compte
ameli</a></p>
<p>Munissez-vous de votre carte bancaire et de votre carte Vitale.</p>
<p>Cordialement,<br>Le service remboursement de l'Assurance Maladie</p>
</body></html>"""

GARDE_TEXT = """Bonjour à toutes et à tous,

Vous trouverez ci-dessous le planning de garde des internes pour le mois prochain, validé
en réunion de service jeudi. Merci de me signaler avant vendredi les échanges de garde que
vous avez convenus entre vous, je mettrai le tableau à jour.

La prochaine réunion de service aura lieu mardi à 14 h en salle de staff du 3e étage
(ordre du jour : organisation des astreintes d'été, point sur les lits de médecine,
présentation du nouveau protocole de sortie). Le compte rendu de la dernière réunion est
sur le partage du service.

Bonne journée,
Claire Martin
Cadre de santé, service de médecine interne
Poste 4521
"""


def _raw(
    subject: str,
    *,
    text: str = "",
    html: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    for name, value in (headers or {}).items():
        message[name] = value
    message["Subject"] = subject
    if text:
        message.set_content(text)
    if html:
        if text:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    return message.as_bytes()


def _parsed(raw: bytes):  # type: ignore[no-untyped-def]
    return parse_message(raw, Source("t.eml"))


AMELI = _raw(
    "Assurance Maladie : remboursement en attente",
    html=AMELI_HTML,
    headers={"From": "Assurance Maladie <remboursement@assure-ameli.info>", "To": "a@b.fr"},
)
GARDE = _raw(
    "Planning de garde et réunion de service",
    text=GARDE_TEXT,
    headers={"From": "Claire Martin <claire.martin@chu-exemple.fr>", "To": "medecine@chu.fr"},
)


def test_shipped_model_is_plain_json() -> None:
    path = Path(__file__).resolve().parents[2] / "src/tocsin/data/phishing/model.json"
    raw = path.read_bytes()
    assert len(raw) < 2 * 1024 * 1024
    assert not raw.startswith(b"\x80")  # not a pickle
    document = json.loads(raw)
    assert document["format"] == "tocsin-phishing-model"
    assert document["shape"] == list(SHAPE)
    assert load_model(path).intercept == document["intercept"]


def test_a_model_with_other_settings_is_refused() -> None:
    document = json.loads(shipped_model().document.model_dump_json())
    document["n_hashed"] = 1024
    with pytest.raises(ModelError, match="other feature settings"):
        parse_model(json.dumps(document))
    with pytest.raises(ModelError, match="invalid phishing model"):
        parse_model("not json")


def test_fake_ameli_refund_is_likely_phishing() -> None:
    assert shipped_model().probability(_parsed(AMELI)) >= 0.8


def test_internal_hospital_email_is_not() -> None:
    # Measured 0.65: the model knows little French legitimate mail (docs/phishing-classifier.md,
    # "Limits"); below FROM_PROBABILITY it gives no points.
    assert shipped_model().probability(_parsed(GARDE)) < FROM_PROBABILITY


def test_the_check_gives_points_and_the_verdict_only_when_confident() -> None:
    reasons = list(ModelCheck().run(_parsed(AMELI), (), Context()))
    assert [r.code for r in reasons] == ["model.phishing-likely"]
    assert reasons[0].points == CONFIDENT_POINTS >= PHISHING_AT > MAX_POINTS  # p = 1.00
    assert re.fullmatch(r"classifier probability [01]\.\d\d", reasons[0].detail)
    assert list(ModelCheck().run(_parsed(GARDE), (), Context())) == []


def test_points_rise_with_the_probability() -> None:
    assert points_for(0.2) == 0
    assert points_for(0.69) == 0
    assert 0 < points_for(0.7) < points_for(0.9) < points_for(0.949) <= MAX_POINTS
    assert points_for(0.95) == points_for(1.0) == CONFIDENT_POINTS


COLLECTION_HEADERS = [
    {"To": "phishing@pot", "Date": "Mon, 2 Sep 2002 12:00:00 +0100"},
    {
        "To": "someone@lists.example.org",
        "Cc": "phishing@pot",
        "Received": "from mx.example.org (10.0.0.1) by mx2 with ESMTP; 3 Jan 2024",
        "Message-ID": "<123@spamassassin.taint.org>",
        "List-Id": "<exmh-users.redhat.com>",
        "List-Unsubscribe": "<mailto:exmh-users-request@redhat.com>",
        "Precedence": "bulk",
        "X-Mailer": "Microsoft Outlook 16.0",
        "Date": "Wed, 3 Jan 2024 10:00:00 +0000",
        "X-Spam-Status": "No, hits=-2.0",
    },
]


@pytest.mark.parametrize("extra", COLLECTION_HEADERS)
def test_features_ignore_collection_headers(extra: dict[str, str]) -> None:
    base = {"From": "Service RH <rh@chu-exemple.fr>"}
    for kwargs in ({"text": GARDE_TEXT}, {"html": AMELI_HTML}):
        plain = _parsed(_raw("Réunion", headers=base, **kwargs))
        marked = _parsed(_raw("Réunion", headers=base | extra, **kwargs))
        assert vectorise(plain) == vectorise(marked)


def test_features_ignore_list_tags_footers_and_the_collectors_address() -> None:
    footer = (
        "\n_______________________________________________\n"
        "Exmh-users mailing list\nExmh-users@redhat.com\n"
        "https://listman.redhat.com/mailman/listinfo/exmh-users\n"
    )
    plain = _parsed(_raw("Réunion", text="Bonjour phishing,\nà mardi.\n"))
    listed = _parsed(_raw("[Exmh] Réunion", text="Bonjour phishing,\nà mardi.\n" + footer))
    assert vectorise(plain) == vectorise(listed)
    assert subject_of(listed) == "Réunion"
    assert strip_list_footers("a\nTo unsubscribe, write to x\nb") == "a\nb"
    one = _parsed(_raw("x", text="Hello phishing@pot, pay 2023 now"))
    other = _parsed(_raw("x", text="Hello jane@example.org, pay 1999 now"))
    assert vectorise(one) == vectorise(other)


def test_training_is_deterministic() -> None:
    phishing = [_raw("Votre compte", html=AMELI_HTML.replace("187,42", str(n))) for n in range(8)]
    legitimate = [_raw("Garde", text=GARDE_TEXT.replace("4521", str(n))) for n in range(8)]
    vectors = [vectorise(_parsed(raw)) for raw in phishing + legitimate]
    labels = [1] * 8 + [0] * 8
    first = fit_model(vectors, labels, 1.0)
    second = fit_model(list(vectors), list(labels), 1.0)
    assert json.dumps(first) == json.dumps(second)
    p = probabilities(first, vectors)
    assert min(p[:8]) > 0.5 > max(p[8:])
    model = parse_model(json.dumps(first))
    assert model.probability_of(vectors[0]) == pytest.approx(p[0], abs=1e-9)


def test_split_is_fixed_by_name() -> None:
    assert is_test("sample-1002.eml") == is_test("sample-1002.eml")
    shares = [is_test(f"sample-{n}.eml") for n in range(2000)]
    assert 0.26 < sum(shares) / len(shares) < 0.34


def test_real_phishing_pot_test_split() -> None:
    folder = shared_data("mail", "phishing_pot", "email")
    model = shipped_model()
    flagged = total = 0
    for source, raw in iter_sources([folder]):
        if not is_test(Path(source.file).name):
            continue
        total += 1
        flagged += model.probability(parse_message(raw, source)) >= 0.5
        if total == 150:
            break
    assert flagged / total >= 0.85


def test_a_configured_model_replaces_the_shipped_one(tmp_path: Path) -> None:
    from tocsin.config import PhishingSettings
    from tocsin.phishing.checks.model import ModelCheck
    from tocsin.phishing.classifier import ModelError
    from tocsin.phishing.context import context_from

    document = json.loads(shipped_model().document.model_dump_json())
    document["intercept"] = 50.0  # a model that calls everything phishing
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document), "utf-8")
    message = _parsed(GARDE)  # an internal hospital email: no points from the shipped model
    shipped = list(ModelCheck().run(message, (), context_from(PhishingSettings())))
    retrained = list(ModelCheck().run(message, (), context_from(PhishingSettings(model=path))))
    assert not shipped
    assert [r.points for r in retrained] == [60]
    path.write_text("{not json", "utf-8")  # changed on disk: read again, and refused
    with pytest.raises(ModelError, match="model.json"):
        context_from(PhishingSettings(model=path))
    with pytest.raises(ModelError, match="missing.json"):
        context_from(PhishingSettings(model=tmp_path / "missing.json"))


def _note(body: str, attachment: bytes | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = "restauration@ch-exemple.fr"
    mail["To"] = "tous@ch-exemple.fr"
    mail["Subject"] = "Menu du self"
    mail.set_content(body)
    if attachment is not None:
        mail.add_attachment(attachment, maintype="application", subtype="pdf", filename="m.pdf")
    return bytes(mail)


def test_the_classifier_alone_without_link_or_attachment_is_suspicious_at_most() -> None:
    from tocsin.phishing.analyze import MODEL_ALONE, analyze_bytes
    from tocsin.phishing.model import Verdict

    # A one-line internal note the English-trained model rates ≥ 0.95.
    alone = analyze_bytes(_note("Lundi : blanquette de veau."), Source("menu.eml"))
    codes = {r.code: r.points for r in alone.reasons}
    assert codes.get("model.phishing-likely") == 60, codes
    assert alone.verdict is Verdict.SUSPICIOUS and alone.score == 59
    assert sum(codes.values()) == alone.score and MODEL_ALONE in codes
    # The same words with a link to act on: the classifier's points stand.
    linked = analyze_bytes(
        _note("Lundi : blanquette de veau. http://198.51.100.3/menu"), Source("menu.eml")
    )
    assert linked.verdict is Verdict.PHISHING
    assert MODEL_ALONE not in {r.code for r in linked.reasons}
