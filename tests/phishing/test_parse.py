"""The email parser: real corpora, forwarded reports, mbox streaming, hostile inputs."""

from __future__ import annotations

import time
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_data  # noqa: I001 - the tests' own conftest
from tocsin.errors import InputError
from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.links import extract_links
from tocsin.phishing.model import Source
from tocsin.phishing.parse import Limits, MessageError, iter_mbox, iter_sources, parse_message

SRC = Source("t.eml")


def _mail(subject: str = "Remboursement", body: str = "Bonjour", html: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = '"Assurance Maladie" <remboursement@ameli-secure.info>'
    message["To"] = "infirmiere@ch-exemple.fr"
    message["Reply-To"] = "contact@autre.example"
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return bytes(message)


def test_headers_bodies_and_links() -> None:
    html = '<p>Cliquez <a href="http://192.0.2.7/ameli">www.ameli.fr</a></p><form action="https://x.example/p">'
    parsed = parse_message(
        _mail("Votre remboursement de 148,50 €", "Voir www.exemple.fr.", html), SRC
    )
    assert parsed.subject == "Votre remboursement de 148,50 €"
    assert (
        parsed.from_[0].name == "Assurance Maladie"
        and parsed.from_[0].domain == "ameli-secure.info"
    )
    assert parsed.reply_to[0].address == "contact@autre.example"
    links = extract_links(parsed)
    assert [(link.url, link.shown, link.origin) for link in links] == [
        ("http://192.0.2.7/ameli", "www.ameli.fr", "html"),
        ("https://x.example/p", "", "form"),
        ("www.exemple.fr", "www.exemple.fr", "text"),
    ]
    assert links[0].host == "192.0.2.7"


def test_encoded_words_and_unknown_charsets_are_decoded_or_kept() -> None:
    raw = (
        b"From: =?utf-8?b?RMOpcGFydGVtZW50IFJI?= <rh@ch.example>\r\n"
        b"Subject: =?iso-8859-1?q?Fiche_de_paie_d=E9cembre?=\r\n"
        b"X-Odd: =?x-unknown?q?abc?= =?utf-8?b?!!!notbase64?=\r\n"
        b"Content-Type: text/plain; charset=x-made-up\r\n\r\nBonjour \xe9\r\n"
    )
    parsed = parse_message(raw, SRC)
    assert parsed.from_[0].name == "Département RH"
    assert parsed.subject == "Fiche de paie décembre"
    assert parsed.first("x-odd")  # kept, whatever it decodes to
    assert parsed.text.startswith("Bonjour")


@pytest.mark.parametrize("encoded", [False, True])
def test_a_forwarded_report_is_judged_on_the_forwarded_message(encoded: bool) -> None:
    suspect = _mail("Mot de passe expiré")
    report = EmailMessage()
    report["From"] = "infirmiere@ch-exemple.fr"
    report["To"] = "signalement@ch-exemple.fr"
    report["Subject"] = "TR: Mot de passe expiré"
    report.set_content("Ce message me paraît suspect.")
    if encoded:  # some clients base64 the forwarded message, against the RFC
        report.add_attachment(suspect, maintype="message", subtype="rfc822")
    else:
        report.add_attachment(message_from_bytes(suspect))
    parsed = parse_message(bytes(report), SRC)
    assert len(parsed.forwarded) == 1
    assert parsed.forwarded[0].subject == "Mot de passe expiré"
    result = analyze_bytes(bytes(report), SRC)
    assert result.subject == "Mot de passe expiré"
    assert result.sender == "remboursement@ameli-secure.info"
    assert result.reported_by == "infirmiere@ch-exemple.fr"
    assert analyze_bytes(bytes(report), SRC, unwrap=False).subject == "TR: Mot de passe expiré"


def _nested(depth: int) -> bytes:
    inner = b"Content-Type: text/plain\r\n\r\nfond\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        inner = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
            + boundary + b"\r\n" + inner + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    return b"From: a@b.example\r\nSubject: deep\r\n" + inner


def test_deep_nesting_and_size_are_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(MessageError, match="nested deeper"):
        parse_message(_nested(40), SRC)
    with pytest.raises(MessageError, match="over the"):
        parse_message(b"Subject: x\r\n\r\n" + b"a" * 2000, SRC, Limits(max_message_bytes=1000))
    assert time.perf_counter() - started < 5  # generous: refusals must not parse everything
    assert parse_message(_nested(5), SRC).text.strip() == "fond"
    with pytest.raises(MessageError, match="empty"):
        parse_message(b"  \r\n", SRC)
    assert issubclass(MessageError, InputError)


def test_too_many_parts_are_cut_and_said() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(50))
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    parsed = parse_message(raw, SRC, Limits(max_parts=10))
    assert parsed.problems and "10 parts" in parsed.problems[0]


def test_mbox_is_streamed_message_by_message(tmp_path: Path) -> None:
    box = tmp_path / "box.mbox"
    box.write_bytes(
        b"From a@b Thu Jan  1 00:00:00 2026\nSubject: one\n\n>From the start\n"
        b"From c@d Thu Jan  1 00:00:01 2026\nSubject: two\n\nbody\n"
    )
    found = list(iter_mbox(box))
    assert [s.index for s, _ in found] == [0, 1]
    assert parse_message(found[0][1], found[0][0]).text.startswith("From the start")
    (tmp_path / "one.eml").write_bytes(_mail())
    sources = list(iter_sources([tmp_path]))
    assert [str(s) for s, _ in sources] == [f"{box}[0]", f"{box}[1]", str(tmp_path / "one.eml")]
    with pytest.raises(InputError):
        list(iter_sources([tmp_path / "absent"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_fuzz_bytes_never_crash(raw: bytes) -> None:
    try:
        parsed = parse_message(raw, SRC, Limits(max_depth=4, max_parts=20))
    except MessageError:
        return
    extract_links(parsed)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"From: ",
                b"=?utf-8?b?",
                b"?=",
                b"Content-Type: multipart/mixed; boundary=x",
                b"\r\n",
                b"--x",
                b"--x--",
                b"<a href='",
                b"'>",
                b"http://",
                b"Content-Transfer-Encoding: base64",
                b"message/rfc822",
                b"Subject: ",
                b"\xff\xfe",
                b"filename*=utf-8''%E9",
                b"\t",
            ]
        ),
        max_size=60,
    )
)
def test_fuzz_header_soup_never_crashes(chunks: list[bytes]) -> None:  # fmt: skip
    try:
        analyze_bytes(b"".join(chunks), SRC, limits=Limits(max_depth=4, max_parts=20))
    except MessageError:
        pass


def test_every_message_of_the_corpora_parses() -> None:
    mail = shared_data("mail")
    count = 0
    for source, raw in iter_sources([mail / "nazario", mail / "phishing_pot" / "email"]):
        parse_message(raw, source)
        count += 1
    assert count > 1900


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        (b"Microsoft account team ,_<no-reply@evil.example>", "Microsoft account team",
         "no-reply@evil.example"),
        (b'"Service, RH" <rh@ch.example>', "Service, RH", "rh@ch.example"),
        (b"a@b.example", "", "a@b.example"),
    ],
)  # fmt: skip
def test_a_broken_from_keeps_its_name_and_address(header: bytes, name: str, address: str) -> None:
    parsed = parse_message(b"From: " + header + b"\r\nSubject: x\r\n\r\nbody\r\n", SRC)
    sender = parsed.sender_address
    assert sender is not None and (sender.name, sender.address) == (name, address)


def test_an_outlook_msg_needs_the_optional_extra() -> None:
    """extract-msg is GPL: without the ``msg`` extra a .msg file is refused with the way to
    read it, and a .msg forwarded inside a report stays an attachment, said so."""
    fake_msg = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    with pytest.raises(MessageError, match=r"tocsin\[msg\]"):
        parse_message(fake_msg, Source("report.msg"))
    report = EmailMessage()
    report["From"] = "agent@ch-exemple.fr"
    report["Subject"] = "TR: suspect"
    report.set_content("voir pièce jointe")
    report.add_attachment(fake_msg, maintype="application", subtype="vnd.ms-outlook",
                          filename="suspect.msg")  # fmt: skip
    parsed = parse_message(bytes(report), SRC)
    assert parsed.forwarded == () and parsed.attachments[0].filename == "suspect.msg"
    assert any("tocsin[msg]" in problem for problem in parsed.problems)
