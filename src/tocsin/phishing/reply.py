"""The answer to a member of staff who reported an email: whom, and what it says.

Pure: :func:`reply_refusal` says why a report must not be answered (or None), and
:func:`reply_message` writes the answer — the verdict in plain words, the score, the main
reasons and what to do — in French or English. The answer goes to the report's ``From``
only, never to the suspect's sender, never to an address of the block list, never to the
mailbox itself nor to an automatic message (no mail loops), and carries
``Auto-Submitted: auto-replied``. Addresses and links quoted from the reasons are defanged
(``exemple[.]fr``, ``hxxps://``) so that no mail client makes them clickable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid, parseaddr

from tocsin.phishing.model import Reason, Verdict

MAX_REASONS = 5
_MAX_DETAIL = 240
_MAX_SUBJECT = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HOSTISH = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:[A-Za-z]{2,63}|\d{1,3})\b")
_MSGID = re.compile(r"<[^<>\s]{1,250}>")

_VERDICT = {
    "fr": {
        Verdict.PHISHING: "C'est un hameçonnage (phishing).",
        Verdict.SUSPICIOUS: "Ce message est suspect.",
        Verdict.LEGITIMATE: "Ce message semble légitime.",
    },
    "en": {
        Verdict.PHISHING: "This is a phishing email.",
        Verdict.SUSPICIOUS: "This email is suspicious.",
        Verdict.LEGITIMATE: "This email looks legitimate.",
    },
}
_SHORT = {
    "fr": {
        Verdict.PHISHING: "hameçonnage",
        Verdict.SUSPICIOUS: "suspect",
        Verdict.LEGITIMATE: "légitime",
    },
    "en": {
        Verdict.PHISHING: "phishing",
        Verdict.SUSPICIOUS: "suspicious",
        Verdict.LEGITIMATE: "legitimate",
    },
}
_ADVICE = {
    "fr": {
        Verdict.PHISHING: (
            "Ne cliquez sur aucun lien et n'ouvrez aucune pièce jointe de ce message : "
            "supprimez-le. Si vous avez saisi votre mot de passe ou d'autres informations, "
            "changez votre mot de passe tout de suite et appelez le support informatique."
        ),
        Verdict.SUSPICIOUS: (
            "Dans le doute, ne cliquez pas et n'ouvrez pas les pièces jointes. Vérifiez "
            "auprès de l'expéditeur par un autre moyen (téléphone, annuaire) avant de répondre "
            "ou d'agir. Si vous avez déjà cliqué ou saisi votre mot de passe, changez-le et "
            "appelez le support informatique. L'équipe sécurité regarde ce message de plus près."
        ),
        Verdict.LEGITIMATE: (
            "Nous n'y avons pas trouvé de signe d'hameçonnage. Restez vigilant : devant une "
            "demande inhabituelle ou pressante, vérifiez auprès de l'expéditeur par un autre "
            "moyen. Merci de continuer à nous signaler les messages douteux."
        ),
    },
    "en": {
        Verdict.PHISHING: (
            "Do not click any link or open any attachment of this email: delete it. If you "
            "typed your password or other information, change your password now and call "
            "the IT support desk."
        ),
        Verdict.SUSPICIOUS: (
            "When in doubt, do not click and do not open attachments. Check with the sender "
            "by another channel (telephone, directory) before answering or acting. If you "
            "already clicked or typed your password, change it and call the IT support desk. "
            "The security team is taking a closer look at this email."
        ),
        Verdict.LEGITIMATE: (
            "We found no sign of phishing in it. Stay careful: when a request is unusual or "
            "urgent, check with the sender by another channel. Thank you for reporting "
            "doubtful emails."
        ),
    },
}
_TEXT = {
    "fr": {
        "hello": "Bonjour,",
        "thanks": "Merci d'avoir signalé le message « {subject} ».",
        "score": "Score : {score}/100 (plus il est haut, plus le message est dangereux).",
        "reasons": "Ce que l'analyse a relevé :",
        "advice": "Que faire ?",
        "defang": "(Les adresses et liens ci-dessus sont neutralisés pour ne pas être cliquables.)",
        "footer": "Réponse automatique de Tocsin pour l'équipe de sécurité informatique.",
        "subject": "Votre signalement : {short}",
    },
    "en": {
        "hello": "Hello,",
        "thanks": 'Thank you for reporting the email "{subject}".',
        "score": "Score: {score}/100 (the higher, the more dangerous).",
        "reasons": "What the analysis found:",
        "advice": "What to do?",
        "defang": "(Addresses and links above are defanged so that they cannot be clicked.)",
        "footer": "Automatic answer from Tocsin on behalf of the IT security team.",
        "subject": "Your report: {short}",
    },
}


@dataclass(frozen=True)
class ReplyFacts:
    """What the answer says: the verdict of the reported email and why."""

    verdict: Verdict
    score: int
    reasons: tuple[Reason, ...]
    subject: str  # of the reported (forwarded) email


def _domain_listed(address: str, entries: Iterable[str]) -> bool:
    """``address`` is one of ``entries``, or its domain or a parent domain is."""
    listed = {e.lower() for e in entries}
    address = address.lower()
    if address in listed:
        return True
    parts = address.rpartition("@")[2].split(".")
    return any(".".join(parts[i:]) in listed for i in range(len(parts) - 1))


def reporter_address(report: Message) -> str | None:
    """The address in the report's ``From`` (lower case), or None when there is none."""
    address = parseaddr(str(report.get("From", "")))[1].strip().lower()
    if "@" not in address or _CONTROL.search(address) or len(address) > 320:
        return None
    return address


def reply_refusal(
    report: Message,
    *,
    suspect_sender: str,
    forwarded: bool,
    own_addresses: Iterable[str],
    block: Iterable[str],
    own_domains: Iterable[str],
) -> str | None:
    """Why ``report`` must not be answered, or None when its sender may be.

    ``suspect_sender``: the From of the analysed email; ``forwarded``: whether the report
    carried it as an attachment; ``own_addresses``: the mailbox's and Tocsin's own
    addresses. A report that forwards nothing is answered only when it comes from one of
    ``own_domains`` (else it may be the phishing email itself, sent to the mailbox).
    """
    address = reporter_address(report)
    domains = list(own_domains)
    if address is None:
        return "no sender address"
    if address in {a.lower() for a in own_addresses}:
        return "sent by the report mailbox itself (no mail loop)"
    automatic = str(report.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(report.get("Precedence", "")).strip().lower()
    if automatic != "no" or precedence in ("bulk", "junk", "list"):
        return "an automatic message (no mail loop)"
    if _domain_listed(address, block):
        return "sender on the block list"
    if forwarded and address == suspect_sender.lower():
        return "the reporter is the suspect's sender"
    if domains and not _domain_listed(address, domains):
        return "sender outside the establishment's own domains"
    if not forwarded and not domains:
        return "not forwarded as an attachment, and no own_domains to trust the sender"
    return None


def _clean(text: str, limit: int) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def defang(text: str) -> str:
    """``https://evil.example/x`` → ``hxxps://evil[.]example/x``: not clickable."""
    text = re.sub(r"(?i)\bhttp(s?)://", r"hxxp\1://", text)
    return _HOSTISH.sub(lambda m: m.group(0).replace(".", "[.]"), text)


def reply_body(facts: ReplyFacts, lang: str) -> str:
    """The text of the answer (module docstring)."""
    words = _TEXT[lang]
    lines = [
        words["hello"],
        "",
        words["thanks"].format(subject=_clean(facts.subject, _MAX_SUBJECT) or "—"),
        "",
        _VERDICT[lang][facts.verdict],
        words["score"].format(score=facts.score),
    ]
    shown = [r for r in facts.reasons if r.points != 0][:MAX_REASONS]
    if shown:
        lines += ["", words["reasons"]]
        colon = " : " if lang == "fr" else ": "
        lines += [f"- {r.code}{colon}{defang(_clean(r.detail, _MAX_DETAIL))}" for r in shown]
        lines += [words["defang"]]
    lines += ["", words["advice"], _ADVICE[lang][facts.verdict], "", "-- ", words["footer"]]
    return "\n".join(lines) + "\n"


def reply_message(
    report: Message, facts: ReplyFacts, *, sender: str, recipient: str, lang: str
) -> EmailMessage:
    """The answer to ``report`` (threaded under it with In-Reply-To and References)."""
    lang = lang if lang in _TEXT else "en"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = _TEXT[lang]["subject"].format(short=_SHORT[lang][facts.verdict])
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "tocsin.local")
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message["Content-Language"] = lang
    found = _MSGID.search(str(report.get("Message-ID", "")))
    if found:
        earlier = _MSGID.findall(str(report.get("References", "")))[-10:]
        message["In-Reply-To"] = found.group(0)
        message["References"] = " ".join([*earlier, found.group(0)])
    message.set_content(reply_body(facts, lang), charset="utf-8")
    return message
