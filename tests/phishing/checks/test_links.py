"""The links check: where a message's URLs lead, read without fetching them."""

from __future__ import annotations

import pytest
from tests.conftest import shared_data

from tocsin.errors import ConfigError
from tocsin.phishing.checks.links import LinksCheck, parse_link_lists
from tocsin.phishing.context import Context
from tocsin.phishing.links import extract_links
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Source
from tocsin.phishing.parse import iter_sources, parse_message

CHECK = LinksCheck()
CH = Context(own_domains=frozenset({"ch-exemple.fr"}))


def html_message(body: str, sender: str = "news@example.org") -> ParsedMessage:
    raw = (
        f"From: {sender}\r\nTo: agent@ch-exemple.fr\r\nSubject: test\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n<html><body>{body}</body></html>"
    ).encode()
    return parse_message(raw, Source("t.eml"))


def codes(msg: ParsedMessage, context: Context = CH) -> dict[str, str]:
    return {r.code: r.detail for r in CHECK.run(msg, extract_links(msg), context)}


def a(href: str, text: str = "ici") -> str:
    return f'<a href="{href}">{text}</a>'


def test_fake_doctolib_text_links_elsewhere() -> None:
    msg = html_message(
        "<p>Votre rendez-vous doit être confirmé sur "
        + a("https://rdv-confirmation.xyz/doctolib/login", "www.doctolib.fr")
        + "</p>",
        sender="Doctolib <no-reply@rdv-confirmation.xyz>",
    )
    found = codes(msg)
    assert (
        "Doctolib's www.doctolib.fr, link goes to rdv-confirmation.xyz"
        in found["links.brand-mismatch"]
    )
    assert "links.text-mismatch" not in found  # the same sign, counted once


def test_own_domain_shown_links_elsewhere() -> None:
    msg = html_message(a("http://203.0.113.7/owa/", "https://webmail.ch-exemple.fr"))
    found = codes(msg)
    assert "establishment's webmail.ch-exemple.fr" in found["links.brand-mismatch"]
    assert "203.0.113.7" in found["links.ip-host"]


def test_text_mismatch_of_unknown_domains_and_same_site_is_quiet() -> None:
    assert "links.text-mismatch" in codes(html_message(a("https://evil.example", "www.shop.com")))
    same = html_message(a("https://shop.com/promo", "www.shop.com"))
    assert codes(same) == {}
    words = html_message(a("https://evil.example", "Cliquez ici"))
    assert codes(words) == {}


@pytest.mark.parametrize(
    ("href", "code"),
    [
        ("http://bit.ly/3abcd", "links.shortener"),
        ("https://www.google.com/url?q=https://evil.example/x", "links.redirector"),
        ("https://tracker.example/redirect?url=https%3A%2F%2Fevil.example%2F", "links.redirector"),
        ("https://login-ms.web.app/", "links.free-hosting"),
        ("https://pub-1234.r2.dev/index.html", "links.free-hosting"),
        ("https://sites.google.com/view/ch-exemple-rh", "links.free-hosting"),
        ("https://forms.gle/AbCdEf", "links.form-service"),
        ("https://docs.google.com/forms/d/e/1FAIpQ/viewform", "links.form-service"),
        ("https://xn--doctlib-m4a.fr/", "links.punycode"),
        ("https://www.ameli.fr@evil.example/", "links.userinfo"),
        ("http://evil.example:8081/login", "links.port"),
        ("data:text/html;base64,PHNjcmlwdD4=", "links.data-uri"),
        ("https://a.b.c.d.login.evil.example/", "links.deep-subdomain"),
        ("http://3232235777/", "links.ip-host"),
    ],
)
def test_url_signs(href: str, code: str) -> None:
    assert code in codes(html_message(a(href)))


def test_ordinary_links_are_quiet() -> None:
    body = a("https://www.ameli.fr/assure", "www.ameli.fr") + a("https://docs.google.com/a/b")
    assert codes(html_message(body)) == {}
    assert codes(html_message(a("https://www.google.com/url?q=recherche"))) == {}


def test_forms() -> None:
    post = '<form method="POST" action="https://collect.example/p"><input type="password"></form>'
    found = codes(html_message(post))
    assert "collect.example" in found["links.form-outside"]
    assert "links.password-form" in found
    search = '<form action="https://www.search.com/q"><input name="q"></form>'
    assert codes(html_message(search)) == {}
    home = '<form method="post" action="https://www.example.org/subscribe"></form>'
    assert codes(html_message(home, sender="news@example.org")) == {}


def test_one_reason_per_code_with_counted_evidence() -> None:
    body = "".join(a(f"https://bit.ly/{i}") + a(f"https://t{i}.tinyurl.com/x") for i in range(5))
    reasons = list(CHECK.run(m := html_message(body), extract_links(m), CH))
    assert [r.code for r in reasons] == ["links.shortener"]
    assert "more" in reasons[0].detail


def test_odd_urls_never_raise() -> None:
    body = "".join(
        a(h)
        for h in ("http://[::1", "https://:99999/", "javascript:alert(1)", "http://%zz", "\x00")
    )
    assert "links.script-uri" in codes(html_message(body))


def test_invalid_lists_file() -> None:
    with pytest.raises(ConfigError):
        parse_link_lists("shorteners = 3\n", "mine.toml")


def _real(folder: str, name: str) -> dict[str, str]:
    path = shared_data("mail", folder, name)
    return codes(parse_message(path.read_bytes(), Source(str(path))), Context())


def test_real_phishing_pot_links() -> None:
    assert (
        "juicycandyiybx.com" in _real("phishing_pot/email", "sample-1241.eml")["links.redirector"]
    )
    assert "cutt.ly" in _real("phishing_pot/email", "sample-1253.eml")["links.shortener"]
    assert "docs.google.com" in _real("phishing_pot/email", "sample-2340.eml")["links.form-service"]
    assert (
        "storage.googleapis.com"
        in _real("phishing_pot/email", "sample-2113.eml")["links.free-hosting"]
    )


def test_real_nazario_paypal_text_to_ip() -> None:
    path = shared_data("mail", "nazario", "20051114.mbox")
    for source, raw in iter_sources([path]):
        if source.index == 11:
            found = codes(parse_message(raw, source), Context())
            assert (
                "PayPal's www.paypal.com, link goes to 203.234.39.64"
                in found["links.brand-mismatch"]
            )
            assert "links.ip-host" in found
            return
    pytest.fail("message 11 not found")


def test_real_newsletter_search_and_own_forms_are_quiet() -> None:
    # hard-ham: CNET's GET search box; Lockergnome's forms posting to lockergnome.com
    for name in (
        "00024.9d2b87b00039e2527adfebd188dd3e98.txt",
        "00072.7fdfa76485745886daefc536dc734132.txt",
    ):
        assert "links.form-outside" not in _real("spamassassin/hard-ham-1", name)
