"""The demo's reported emails: regenerated identically, and judged as a person would."""

from __future__ import annotations

import io
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import zxingcpp
from PIL import Image

from tocsin.data import data_path
from tocsin.demo.phishing import MESSAGES, write_messages
from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.model import Source, Verdict

BUNDLED = Path(str(data_path("demo", "phishing")))


def _qr_texts(raw: bytes) -> list[str]:
    texts = []
    for part in message_from_bytes(raw).walk():
        if isinstance(part, Message) and part.get_content_type() == "image/png":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            texts += [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]
    return texts


def test_regenerated_messages_are_the_bundled_ones(tmp_path: Path) -> None:
    written = write_messages(tmp_path)
    assert (
        [p.name for p in written]
        == sorted(MESSAGES)
        == sorted(p.name for p in BUNDLED.glob("*.eml"))
    )
    for path in written:
        bundled = (BUNDLED / path.name).read_bytes()
        if path.name.startswith("04-"):  # a PNG inside: its bytes depend on Pillow's zlib
            assert _qr_texts(path.read_bytes()) == _qr_texts(bundled)
        else:
            assert path.read_bytes() == bundled, path.name


def _verdict(name: str) -> tuple[Verdict, set[str], str | None]:
    result = analyze_bytes((BUNDLED / name).read_bytes(), Source(name))
    return result.verdict, {r.code for r in result.reasons}, result.reported_by


def test_the_lures_are_caught_and_the_genuine_mail_is_not() -> None:
    for name in ("01-ameli-remboursement.eml", "02-doctolib-rendez-vous.eml"):
        verdict, codes, _ = _verdict(name)
        assert verdict is Verdict.PHISHING, (name, codes)
    verdict, codes, _ = _verdict("03-dsi-mot-de-passe.eml")
    assert verdict is not Verdict.LEGITIMATE, codes
    verdict, codes, _ = _verdict("04-facture-qr-code.eml")
    assert verdict is not Verdict.LEGITIMATE and "attachment.qr-url" in codes
    assert _qr_texts((BUNDLED / "04-facture-qr-code.eml").read_bytes()) == [
        "https://medi-fournitures-paiement.example/f/2026-4471"
    ]
    assert _verdict("05-planning-gardes.eml")[0] is Verdict.LEGITIMATE
    verdict, _codes, reporter = _verdict("06-signalement-ameli.eml")
    assert verdict is Verdict.PHISHING and reporter == "infirmiere.dupont@ch-demo.example"
