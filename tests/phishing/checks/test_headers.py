"""The headers check: trusted authentication results, sender mismatches, Received anomalies."""

from __future__ import annotations

from pathlib import Path

from conftest import shared_data
from tocsin.phishing.checks.headers import HeadersCheck
from tocsin.phishing.checks.headers_auth import parse_header
from tocsin.phishing.checks.headers_domains import registrable
from tocsin.phishing.context import Context
from tocsin.phishing.model import Reason, Source
from tocsin.phishing.parse import iter_sources, parse_message

GATEWAY = Context(authserv_ids=frozenset({"mx.chu-exemple.fr"}))
MICROSOFT_365 = Context(authserv_ids=frozenset({"(none)"}))


def _message(headers: str, body: str = "Bonjour,\n") -> bytes:
    return (headers.strip() + "\n\n" + body).replace("\n", "\r\n").encode()


def _reasons(raw: bytes, context: Context = GATEWAY) -> dict[str, Reason]:
    message = parse_message(raw, Source("t.eml"))
    return {r.code: r for r in HeadersCheck().run(message, (), context)}


AMELI_SPOOF = _message(
    """
Authentication-Results: mx.chu-exemple.fr; spf=fail (ip 203.0.113.9 not allowed)
 smtp.mailfrom=ameli.fr; dkim=fail (bad signature) header.d=ameli.fr;
 dmarc=fail (p=reject) header.from=ameli.fr
Authentication-Results: mx.chu-exemple.fr; dmarc=pass header.from=ameli.fr
Received: from mail.ameli.fr (unknown [203.0.113.9]) by mx.chu-exemple.fr (Postfix)
 with ESMTP id 1; Mon, 3 Mar 2025 10:00:00 +0100
From: "Assurance Maladie" <remboursement@ameli.fr>
To: agent@chu-exemple.fr
Subject: Remboursement
Date: Mon, 3 Mar 2025 09:59:00 +0100
"""
)


def test_trusted_gateway_failures_are_reasons() -> None:
    reasons = _reasons(AMELI_SPOOF)
    assert reasons["auth.dmarc-fail"].points == 30
    assert "ameli.fr" in reasons["auth.dmarc-fail"].detail
    assert "mx.chu-exemple.fr" in reasons["auth.dmarc-fail"].detail
    assert reasons["auth.spf-fail"].points == 15
    assert reasons["auth.dkim-fail"].points == 10
    # the topmost trusted header decides: the "pass" written below it is not read
    assert "auth.dmarc-pass" not in reasons
    assert "auth.untrusted" not in reasons


def test_results_of_another_authserv_id_are_ignored() -> None:
    forged = AMELI_SPOOF.replace(b"mx.chu-exemple.fr;", b"mx.attaquant.example;")
    reasons = _reasons(forged)
    assert not [c for c in reasons if c.startswith("auth.") and c != "auth.untrusted"]
    assert reasons["auth.untrusted"].points == 0
    assert "mx.attaquant.example" in reasons["auth.untrusted"].detail
    assert "not the establishment's" in reasons["auth.untrusted"].detail


def test_nothing_is_trusted_without_configured_ids() -> None:
    reasons = _reasons(AMELI_SPOOF, Context())
    assert set(c for c in reasons if c.startswith("auth.")) == {"auth.untrusted"}
    assert "none configured" in reasons["auth.untrusted"].detail


def test_aligned_dmarc_pass_reassures() -> None:
    raw = _message(
        """
ARC-Authentication-Results: i=1; mx.chu-exemple.fr 1; spf=pass smtp.mailfrom=doctolib.fr;
 dkim=pass header.d=doctolib.fr; dmarc=pass (p=reject) header.from=doctolib.fr
From: Doctolib <no-reply@notifications.doctolib.fr>
Subject: Rappel de rendez-vous
"""
    )
    reasons = _reasons(raw)
    assert reasons["auth.dmarc-pass"].points == -10
    assert set(reasons) == {"auth.dmarc-pass"}


def test_dmarc_pass_of_another_domain_or_freemail_does_not_reassure() -> None:
    other = _message(
        """
Authentication-Results: mx.chu-exemple.fr; dmarc=pass header.from=evil.example
From: Doctolib <rdv@doctolib.fr>
"""
    )
    gmail = _message(
        """
Authentication-Results: mx.chu-exemple.fr; dmarc=pass header.from=gmail.com
From: "DSI du CH" <dsi.chu.exemple@gmail.com>
"""
    )
    assert "auth.dmarc-pass" not in _reasons(other)
    assert "auth.dmarc-pass" not in _reasons(gmail)


def test_exchange_online_headers_without_authserv_id() -> None:
    raw = _message(
        """
Authentication-Results: spf=softfail (sender IP is 198.51.100.7)
 smtp.mailfrom=promo.example; dkim=none (message not signed) header.d=none;
 dmarc=fail action=none header.from=doctolib.fr;compauth=fail reason=001
From: Doctolib <rdv@doctolib.fr>
"""
    )
    assert "auth.dmarc-fail" not in _reasons(raw)  # not trusted unless configured
    reasons = _reasons(raw, MICROSOFT_365)
    assert reasons["auth.dmarc-fail"].points == 30
    assert "without authserv-id" in reasons["auth.dmarc-fail"].detail
    assert reasons["auth.spf-softfail"].points == 5


def test_parse_header_reads_properties_and_skips_comments() -> None:
    header = parse_header(
        "authentication-results",
        'mx.Example.org 1; dkim=pass (good "sig; nature") header.d=a.example header.i=@a.example;'
        " spf=hardfail smtp.mailfrom=x@b.example; bogus; =; dmarc=",
    )
    assert header.authserv_id == "mx.example.org"
    assert [(r.method, r.result) for r in header.results] == [("dkim", "pass"), ("spf", "fail")]
    assert header.results[0].prop("header.d") == "a.example"


def test_display_name_showing_another_address() -> None:
    raw = _message('From: "support@ameli.fr" <x@evil.tld>\nSubject: Votre remboursement')
    reason = _reasons(raw)["from.display-address"]
    assert reason.points == 10
    assert "support@ameli.fr" in reason.detail and "x@evil.tld" in reason.detail
    same = _message('From: "contact@ameli.fr" <info@ameli.fr>')
    assert "from.display-address" not in _reasons(same)


def test_reply_to_freemail_and_mismatch() -> None:
    freemail = _message(
        "From: DSI du CH <dsi@chu-exemple.fr>\nReply-To: dsi.chu.exemple@gmail.com\n"
    )
    assert _reasons(freemail)["from.reply-to-freemail"].points == 20
    other = _message("From: <factures@fournisseur.fr>\nReply-To: <compta@autre-societe.fr>\n")
    reasons = _reasons(other)
    assert reasons["from.reply-to-mismatch"].points == 5
    assert "from.reply-to-freemail" not in reasons
    # same registrable domain (public-suffix aware), or a list answering to its own address
    same = _message("From: <a@mail.chu-exemple.fr>\nReply-To: <b@chu-exemple.fr>\n")
    assert not _reasons(same)
    mailing_list = _message(
        "From: <alice@example.org>\nReply-To: <dev@lists.project.example>\n"
        "List-Post: <mailto:dev@lists.project.example>\n"
    )
    assert "from.reply-to-mismatch" not in _reasons(mailing_list)


def test_registrable_domain_is_public_suffix_aware() -> None:
    assert registrable("mail.ameli.fr") == "ameli.fr"
    assert registrable("a.b.example.co.uk") == "example.co.uk"
    assert registrable("alice.github.io") != registrable("bob.github.io")
    assert registrable("pot") == "pot"
    assert registrable("") == ""


def test_return_path_mismatch_is_informative_only() -> None:
    raw = _message("Return-Path: <bounce-42@mail.sendservice.example>\nFrom: <news@shop.fr>\n")
    assert _reasons(raw)["from.return-path-mismatch"].points == 0


def test_forged_helo_and_future_date() -> None:
    raw = _message(
        """
Received: from smtp.gmail.com (host-7.isp.example [192.0.2.7]) by mx.chu-exemple.fr
 (Postfix) with ESMTP id 2; Mon, 3 Mar 2025 10:00:00 +0100
Date: Tue, 4 Mar 2025 10:00:00 +0100
From: <x@example.org>
"""
    )
    reasons = _reasons(raw)
    assert reasons["received.forged-helo"].points == 15
    assert "smtp.gmail.com" in reasons["received.forged-helo"].detail
    assert reasons["received.date-future"].points == 5
    genuine = _message(
        """
Received: from mail-wr1-f54.google.com (mail-wr1-f54.google.com [209.85.221.54]) by
 mx.chu-exemple.fr (Postfix) with ESMTPS id 3; Mon, 3 Mar 2025 10:00:00 +0100
Date: Mon, 3 Mar 2025 09:59:58 +0100
From: <x@gmail.com>
"""
    )
    assert not _reasons(genuine)


def test_odd_headers_never_raise() -> None:
    raw = _message(
        "Authentication-Results: ;;;(((\nARC-Authentication-Results: i=x\nReceived: from\n"
        "Received: from ( [\nDate: not a date\nFrom: ,,,\nReply-To: <@>\nReturn-Path: <>\n"
    )
    assert _reasons(raw, MICROSOFT_365) == {}


# Real messages of ../shared/data/mail, looked at one by one.


def _real(*parts: str) -> bytes:
    return Path(shared_data("mail", *parts)).read_bytes()


def test_real_phishing_reply_to_gmail() -> None:
    """phishing_pot sample-1002: "Microsoft account team" from access-accsecurity.com, answers
    to a Gmail address."""
    reasons = _reasons(_real("phishing_pot", "email", "sample-1002.eml"))
    assert "solutionteamrecognizd02@gmail.com" in reasons["from.reply-to-freemail"].detail


def test_real_phishing_spoofing_otto_fails_dmarc_at_microsoft() -> None:
    """phishing_pot sample-1017: From newsletter.otto.de, sent from winner-win.art; Outlook's
    own header says dmarc=fail."""
    reasons = _reasons(_real("phishing_pot", "email", "sample-1017.eml"), MICROSOFT_365)
    assert "newsletter.otto.de" in reasons["auth.dmarc-fail"].detail
    assert "auth.dmarc-fail" not in _reasons(_real("phishing_pot", "email", "sample-1017.eml"))


def test_real_phishing_helo_gmail_from_elsewhere() -> None:
    """phishing_pot sample-399: a hop says HELO gmail.com from an address without rDNS."""
    reasons = _reasons(_real("phishing_pot", "email", "sample-399.eml"))
    assert "gmail.com" in reasons["received.forged-helo"].detail


def test_real_ham_hotmail_group_is_not_reply_to_freemail() -> None:
    """hard-ham 00170: a Hotmail user posting to an MSN group that takes the answers."""
    reasons = _reasons(
        _real("spamassassin", "hard-ham-1", "00170.1a9e4779117adf05e9690401ab6bc6cb.txt")
    )
    assert "from.reply-to-freemail" not in reasons
    assert reasons["from.reply-to-mismatch"].points == 5


def test_real_easy_ham_scores_almost_nothing() -> None:
    """easy-ham-1: header points stay under 30 on every message, and are 0 on 99 % of them."""
    folder = shared_data("mail", "spamassassin", "easy-ham-1")
    scores = []
    for source, raw in iter_sources([folder]):
        message = parse_message(raw, source)
        scores.append(sum(r.points for r in HeadersCheck().run(message, (), GATEWAY)))
    assert len(scores) > 1000
    assert max(scores) < 30
    assert sum(1 for s in scores if s > 0) / len(scores) < 0.01
