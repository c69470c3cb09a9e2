"""The report mailbox: staff reports read over IMAP, kept, moved aside and answered.

:func:`poll_mailbox` reads the unseen messages of ``[phishing.mailbox] folder`` (Python's
imaplib only): sizes first (``RFC822.SIZE``; an oversized message is flagged, left in place
and counted, never downloaded), then each message with ``BODY.PEEK[]``. Each is analysed
and kept by :func:`tocsin.phishing.service.record_report` (origin ``imap``), moved to
``processed_folder`` (``MOVE``; else copied and marked ``\\Seen``), and answered by
:mod:`tocsin.phishing.reply`. One bad message is a counted warning; the run goes on.

TLS is required (implicit, or STARTTLS with the system's certificate authorities) except on
a loopback host. Network failures are :class:`MailboxError`, naming the server, never the
password. Message contents are never logged.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any

from tocsin.config import PhishingMailboxSettings, Settings, is_loopback_host
from tocsin.errors import InputError, Location, SourceUnavailableError, TocsinError, UsageError
from tocsin.notify import NotifyError
from tocsin.notify.email import send_message
from tocsin.phishing.reply import ReplyFacts, reply_message, reply_refusal, reporter_address
from tocsin.phishing.service import ReportOutcome, record_report
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment
from tocsin.store.phishing import mark_replied

MAX_NOTES = 100  # lines kept per list of the summary; the rest are counted
_FETCH_BATCH = 200
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_DELIMITER = re.compile(rb'\) (?:"((?:[^"\\]|\\.)*)"|NIL) ')


class MailboxError(SourceUnavailableError):
    """The report mailbox could not be read: which server, and why."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(reason, Location(server))
        self.server = server


class _RefusedError(MailboxError):
    """The server said NO (or BAD) to one command; the connection is still usable."""


@dataclass
class IntakeReport:
    """What one run did: counts, and why messages were skipped or not answered."""

    fetched: int = 0  # messages downloaded
    kept: int = 0  # new reports
    duplicates: int = 0  # messages kept before (same bytes)
    replied: int = 0
    skipped: list[str] = field(default_factory=list)  # left in the mailbox, flagged
    errors: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # kept, but no answer sent (why)
    dropped: int = 0  # notes over MAX_NOTES, counted only

    def note(self, kind: str, text: str) -> None:
        notes: list[str] = getattr(self, kind)
        if len(notes) < MAX_NOTES:
            notes.append(text[:500])
        else:
            self.dropped += 1

    def to_dict(self) -> dict[str, object]:
        return {
            "version": 1,
            "fetched": self.fetched,
            "kept": self.kept,
            "duplicates": self.duplicates,
            "replied": self.replied,
            "skipped": list(self.skipped),
            "errors": list(self.errors),
            "unanswered": list(self.unanswered),
            "notes_dropped": self.dropped,
        }


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501, 5.1.3): ``Traités`` → ``Trait&AOk-s``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """One IMAP conversation, imaplib's errors turned into :class:`MailboxError`."""

    def __init__(self, box: PhishingMailboxSettings) -> None:
        if not box.host:
            raise UsageError("no report mailbox: set [phishing.mailbox] host")
        scheme = "imaps" if box.security == "ssl" else "imap"
        self.server = f"{scheme}://{box.host}:{box.port}"
        self.box = box
        self.delimiter = "/"
        self.capabilities: frozenset[str] = frozenset()
        self._imap: imaplib.IMAP4 | None = None

    @property
    def imap(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise MailboxError(self.server, "not connected")
        return self._imap

    def _call(self, what: str, command: Callable[..., tuple[str, list[Any]]], *args: Any) -> Any:
        try:
            kind, data = command(*args)
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(self.server, f"{what}: connection lost ({exc})") from exc
        except imaplib.IMAP4.error as exc:
            raise _RefusedError(self.server, f"{what} refused: {exc}") from exc
        except OSError as exc:
            raise MailboxError(self.server, f"{what}: {exc}") from exc
        if kind != "OK":
            said = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
            raise _RefusedError(self.server, f"{what} refused: {said[:200]}")
        return data

    def _connect(self) -> imaplib.IMAP4:
        box = self.box
        assert box.host is not None
        if box.security == "none" and not is_loopback_host(box.host):
            raise UsageError("refusing IMAP without TLS to a host that is not loopback")
        context = ssl.create_default_context()
        if box.security == "ssl":
            return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=box.timeout)
        imap = imaplib.IMAP4(box.host, box.port, timeout=box.timeout)
        if box.security == "starttls":
            try:
                imap.starttls(context)
            except (imaplib.IMAP4.error, ssl.SSLError):
                imap.shutdown()
                raise
        return imap

    def open(self) -> None:
        """Connect, log in, learn the capabilities and the hierarchy delimiter."""
        box = self.box
        if not box.username or box.password is None:
            raise UsageError("set [phishing.mailbox] username and password (or password_file)")
        try:
            self._imap = self._connect()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(self.server, f"cannot connect: {exc}") from exc
        password = box.password.get_secret_value()
        self._call("login", self.imap.login, box.username, password)
        data = self._call("CAPABILITY", self.imap.capability)
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
        self.capabilities = frozenset(words.upper().split())
        listing = self._call("LIST", self.imap.list, '""', '""')
        found = _DELIMITER.search(listing[0] or b"") if listing else None
        if found and found.group(1):
            self.delimiter = found.group(1).decode("utf-8", "replace").replace("\\", "")

    def close(self) -> None:
        if self._imap is not None:
            try:
                self._imap.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
            self._imap = None

    def mailbox_name(self, name: str) -> str:
        """``name`` (``/`` between levels) as the server spells it, quoted."""
        return _quoted(imap_utf7(name.replace("/", self.delimiter)))

    def ensure_folder(self, name: str) -> None:
        encoded = self.mailbox_name(name)
        if self._call("LIST", self.imap.list, '""', encoded) in ([None], []):
            self._call(f"creating folder {name}", self.imap.create, encoded)
            try:
                self._call("SUBSCRIBE", self.imap.subscribe, encoded)
            except _RefusedError:
                pass  # only how clients show it

    def select(self, name: str) -> None:
        self._call(f"opening folder {name}", self.imap.select, self.mailbox_name(name))

    def unseen(self) -> list[str]:
        data = self._call("SEARCH", self.imap.uid, "SEARCH", "UNSEEN")
        words = b" ".join(d for d in data if isinstance(d, bytes)).split()
        return sorted((w.decode() for w in words if w.isdigit()), key=int)

    def sizes(self, uids: list[str]) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for start in range(0, len(uids), _FETCH_BATCH):
            batch = ",".join(uids[start : start + _FETCH_BATCH])
            for item in self._call("FETCH", self.imap.uid, "FETCH", batch, "(RFC822.SIZE)"):
                line = item[0] if isinstance(item, tuple) else item
                uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
                if uid and size:
                    sizes[uid.group(1).decode()] = int(size.group(1))
        return sizes

    def body(self, uid: str) -> bytes:
        for item in self._call("FETCH", self.imap.uid, "FETCH", uid, "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise _RefusedError(self.server, f"FETCH {uid}: no message in the answer")

    def flag(self, uid: str, flags: str) -> None:
        self._call("STORE", self.imap.uid, "STORE", uid, "+FLAGS", f"({flags})")

    def move(self, uid: str, folder: str) -> None:
        target = self.mailbox_name(folder)
        if "MOVE" in self.capabilities:
            self._call(f"moving to {folder}", self.imap.uid, "MOVE", uid, target)
        else:
            self._call(f"copying to {folder}", self.imap.uid, "COPY", uid, target)
            self.flag(uid, "\\Seen")


@dataclass(frozen=True)
class _Job:
    """What every message of one run shares."""

    database: Database
    settings: Settings
    session: ImapSession
    slug: str
    reply_from: str
    own_addresses: frozenset[str]
    answered: set[int] = field(default_factory=set)  # reports whose answer was tried this run


def _job(database: Database, settings: Settings, session: ImapSession) -> _Job:
    box = settings.phishing.mailbox
    if not box.establishment:
        raise UsageError("set [phishing.mailbox] establishment (the slug reports belong to)")
    with database.session() as db:
        get_establishment(db, box.establishment)  # NotFoundError before touching the mailbox
    reply_from = box.reply_from or settings.smtp.sender
    own = {reply_from, settings.smtp.sender, *([box.username] if box.username else [])}
    return _Job(
        database,
        settings,
        session,
        box.establishment,
        reply_from,
        frozenset(a.lower() for a in own),
    )


def _skip(job: _Job, report: IntakeReport, uid: str, why: str) -> None:
    """Leave message ``uid`` in place, flagged (and seen: not read again), counted."""
    folder = job.settings.phishing.mailbox.folder
    report.note("skipped", f"message {uid}: {why}; left in {folder}, flagged")
    job.session.flag(uid, "\\Flagged \\Seen")


def _answer(job: _Job, headers: Message, outcome: ReportOutcome, report: IntakeReport) -> None:
    """Send the reporter the verdict and advice, unless :func:`reply_refusal` objects."""
    settings, stored = job.settings, outcome.report
    if not settings.phishing.mailbox.reply or stored.replied_at is not None:
        return
    if stored.id in job.answered:  # the same message twice in one run
        return
    job.answered.add(stored.id)
    refusal = reply_refusal(
        headers,
        suspect_sender=outcome.analysis.sender,
        forwarded=outcome.analysis.reported_by is not None,
        own_addresses=job.own_addresses,
        block=settings.phishing.block,
        own_domains=settings.phishing.own_domains,
    )
    recipient = reporter_address(headers)
    if refusal is None and not settings.smtp.host:
        refusal = "no SMTP server configured (smtp.host)"
    if refusal is not None or recipient is None:
        report.note("unanswered", f"report {stored.id}: {refusal}")
        return
    facts = ReplyFacts(stored.verdict, stored.score, stored.reasons, stored.subject)
    message = reply_message(
        headers, facts, sender=job.reply_from, recipient=recipient, lang=settings.language
    )
    try:
        send_message(settings.smtp, message)
    except (NotifyError, UsageError) as exc:
        report.note("errors", f"report {stored.id}: answer not sent: {exc}")
        return
    with job.database.session() as db:
        mark_replied(db, stored.id)
    report.replied += 1


def _record(job: _Job, uid: str, raw: bytes, headers: Message) -> ReportOutcome:
    return record_report(
        job.database,
        job.settings,
        job.slug,
        raw,
        origin="imap",
        name=f"imap:{job.settings.phishing.mailbox.folder}:{uid}",
        reporter=reporter_address(headers),
        actor="imap",
    )


def _one(job: _Job, uid: str, size: int | None, report: IntakeReport) -> None:
    """Read, keep, move and answer message ``uid`` (module docstring)."""
    box = job.settings.phishing.mailbox
    if size is None:
        report.note("errors", f"message {uid}: the server gave no size")
        return
    if size > box.max_message_bytes:
        _skip(
            job, report, uid, f"{size:,} bytes, over max_message_bytes ({box.max_message_bytes:,})"
        )
        return
    raw = job.session.body(uid)
    report.fetched += 1
    if len(raw) > box.max_message_bytes:
        _skip(job, report, uid, f"{len(raw):,} bytes, over max_message_bytes")
        return
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    try:
        outcome = _record(job, uid, raw, headers)
    except (InputError, UsageError) as exc:  # this message will never be analysed
        _skip(job, report, uid, f"refused: {exc.message}")
        return
    except TocsinError as exc:  # the store: left unseen, tried again next run
        report.note("errors", f"message {uid}: not kept: {exc}")
        return
    if outcome.created:
        report.kept += 1
    else:
        report.duplicates += 1
    try:
        job.session.move(uid, box.processed_folder)
    except _RefusedError as exc:
        report.note("errors", f"message {uid}: kept, but {exc.message}")
    _answer(job, headers, outcome, report)


def _unseen(job: _Job, report: IntakeReport) -> Iterator[tuple[str, int | None]]:
    box = job.settings.phishing.mailbox
    uids = job.session.unseen()
    if len(uids) > box.max_messages:
        more = len(uids) - box.max_messages
        report.note("skipped", f"{more} more message(s) left for the next run (max_messages)")
        uids = uids[: box.max_messages]
    sizes = job.session.sizes(uids)
    for uid in uids:
        yield uid, sizes.get(uid)


def poll_mailbox(database: Database, settings: Settings) -> IntakeReport:
    """Read the report mailbox once (module docstring); what was done.

    Raises :class:`MailboxError` when the server cannot be reached, the login or the folder
    is refused; a connection lost midway ends the run with what was done, and an error.
    """
    box = settings.phishing.mailbox
    session = ImapSession(box)
    report = IntakeReport()
    job = _job(database, settings, session)
    try:
        session.open()
        session.ensure_folder(box.processed_folder)
        session.select(box.folder)
        try:
            for uid, size in _unseen(job, report):
                try:
                    _one(job, uid, size, report)
                except _RefusedError as exc:
                    report.note("errors", f"message {uid}: {exc.message}")
        except MailboxError as exc:
            report.note("errors", str(exc))
    finally:
        session.close()
    return report
