"""The ransomware intrusion of the demo logs, on one file server, over about 35 minutes.

A supplier's maintenance account (``presta.maint``), its password guessed after a few
failures, opens a remote desktop session on ``srv-fic-01`` from a workstation of the
technical services in the middle of the night; the intruder runs discovery commands,
copies a LockBit-like binary through the RDP clipboard, deletes shadow copies (vssadmin,
then wmic), the backup catalogue (wbadmin), disables recovery (bcdedit), then the binary
writes ``HOW_TO_DECRYPT.txt`` notes in 40 folders of the shares and encrypts about 900
files, each renamed to ``.lockbit`` (Sysmon 11 for the new file, Sysmon 26 and Security
4663 with DELETE access for the original). :class:`ChainTimes` says when each step is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.demo.logs_windows import (
    DOMAIN,
    HOSTS,
    SHARES,
    SUBFOLDERS,
    SYS32,
    Ids,
    WinEvent,
    document_name,
    file_created,
    file_deleted,
    logon,
    object_delete,
    process,
)

CHAIN_HOST = "srv-fic-01"
ATTACKER_USER = "presta.maint"
ATTACKER_SOURCE = next(h for h in HOSTS if h.name == "pc-w10-tech-02")
PAYLOAD = "C:\\ProgramData\\syncsvc.exe"
NOTE = "HOW_TO_DECRYPT.txt"
EXTENSION = ".lockbit"
NOTE_FOLDERS = 40
ENCRYPTED_FILES = 900
_CMD = SYS32 + "cmd.exe"
_DISCOVERY = (
    ("whoami.exe", "whoami /all"),
    ("net.exe", 'net group "domain admins" /domain'),
    ("net.exe", "net user presta.maint /domain"),
    ("nltest.exe", "nltest /domain_trusts /all_trusts"),
    ("nltest.exe", "nltest /dclist:chdemo.local"),
    ("net.exe", "net share"),
    ("net.exe", "net view \\\\srv-fic-02"),
)
_WIPE = (
    ("vssadmin.exe", "vssadmin delete shadows /all /quiet"),
    ("wbem\\WMIC.exe", "wmic shadowcopy delete /nointeractive"),
    ("wbadmin.exe", "wbadmin delete catalog -quiet"),
    ("bcdedit.exe", "bcdedit /set {default} recoveryenabled no"),
    ("bcdedit.exe", "bcdedit /set {default} bootstatuspolicy ignoreallfailures"),
)


@dataclass(frozen=True)
class ChainTimes:
    """When each step of the intrusion happens (UTC)."""

    logon: datetime  # the first failed attempt; success two minutes later
    discovery: datetime
    payload: datetime
    wipe: datetime  # vssadmin, then wmic, wbadmin, bcdedit every 30 s
    encryption: datetime  # the binary starts; notes and renames follow
    end: datetime  # the last renamed file

    @classmethod
    def at(cls, start: datetime) -> ChainTimes:
        return cls(
            logon=start,
            discovery=start + timedelta(minutes=4),
            payload=start + timedelta(minutes=16),
            wipe=start + timedelta(minutes=24),
            encryption=start + timedelta(minutes=28),
            end=start + timedelta(minutes=28 + 5),
        )


@dataclass(frozen=True)
class _Session:
    ids: Ids
    lid: str
    account: str
    shell: tuple[str, str] = (_CMD, '"cmd.exe"')  # the intruder's command prompt

    def run(
        self,
        t: datetime,
        image: str,
        command: str,
        parent: tuple[str, str] | None = None,
        guid: str | None = None,
    ) -> WinEvent:
        """A process the intruder starts (elevated: the account is a local administrator)."""
        return process(
            t, CHAIN_HOST, self.ids, image, command, parent or self.shell, self.account,
            self.lid, guid, integrity="High",
        )  # fmt: skip


def ransomware_chain(rng: random.Random, times: ChainTimes) -> list[WinEvent]:
    """Every event of the intrusion, in no particular order."""
    ids = Ids(rng)
    session = _Session(ids, ids.logon(), f"{DOMAIN}\\{ATTACKER_USER}")
    events = _intrusion(times, session)
    events += _discovery(times, session)
    events += _wipe(times, session)
    events += _encryption(rng, times, session)
    return events


def _intrusion(times: ChainTimes, session: _Session) -> list[WinEvent]:
    source = ATTACKER_SOURCE.ip
    events = [
        WinEvent(
            times.logon + timedelta(seconds=20 * n),
            CHAIN_HOST,
            ("Security", "Microsoft-Windows-Security-Auditing"),
            4625,
            {
                "TargetUserName": user,
                "TargetDomainName": DOMAIN,
                "Status": "0xc000006d",
                "SubStatus": "0xc000006a",
                "LogonType": "10",
                "WorkstationName": ATTACKER_SOURCE.name.upper(),
                "IpAddress": source,
            },
        )
        for n, user in enumerate(("administrateur", "admin", ATTACKER_USER, ATTACKER_USER))
    ]
    success = times.logon + timedelta(minutes=2)
    events.append(logon(success, CHAIN_HOST, ATTACKER_USER, session.lid, 10, source))
    rdp = ("C:\\Windows\\System32\\svchost.exe", "svchost.exe -k termsvcs -s TermService")
    explorer = ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE")
    for offset, image, parent in (
        (20, SYS32 + "rdpclip.exe", rdp),
        (25, explorer[0], (SYS32 + "userinit.exe", SYS32 + "userinit.exe")),
        (90, _CMD, explorer),
    ):
        t = success + timedelta(seconds=offset)
        command = session.shell[1] if image == _CMD else image
        events.append(session.run(t, image, command, parent))
    return events


def _discovery(times: ChainTimes, session: _Session) -> list[WinEvent]:
    events = []
    for n, (image, command) in enumerate(_DISCOVERY):
        t = times.discovery + timedelta(seconds=50 * n + 7)
        events.append(session.run(t, SYS32 + image, command))
    rdpclip = SYS32 + "rdpclip.exe"
    events.append(
        file_created(times.payload, CHAIN_HOST, rdpclip, session.ids.guid(CHAIN_HOST), PAYLOAD)
    )
    return events


def _wipe(times: ChainTimes, session: _Session) -> list[WinEvent]:
    events = []
    for n, (image, command) in enumerate(_WIPE):
        t = times.wipe + timedelta(seconds=30 * n + 4)
        events.append(session.run(t, SYS32 + image, command))
    return events


def _folders() -> list[str]:
    return [f"D:\\Partages\\{share}\\{sub}" for share in SHARES for sub in SUBFOLDERS]


def _encryption(rng: random.Random, times: ChainTimes, session: _Session) -> list[WinEvent]:
    guid = session.ids.guid(CHAIN_HOST)
    command = f"{PAYLOAD} -pass 6f1c03a2e9b84d7a -path D:\\Partages"
    events = [session.run(times.encryption, PAYLOAD, command, guid=guid)]
    folders = _folders()
    span = (times.end - times.encryption).total_seconds() - 10
    for n, folder in enumerate(folders[:NOTE_FOLDERS]):
        t = times.encryption + timedelta(seconds=5 + n * 4.2)
        events.append(file_created(t, CHAIN_HOST, PAYLOAD, guid, f"{folder}\\{NOTE}"))
    seen: set[str] = set()
    for n in range(ENCRYPTED_FILES):
        t = times.encryption + timedelta(seconds=8 + span * n / ENCRYPTED_FILES)
        path = f"{folders[n % len(folders)]}\\{document_name(rng)}"
        while path in seen:  # one file is encrypted once
            path = f"{path.rsplit('.', 1)[0]}_{n}.{path.rsplit('.', 1)[1]}"
        seen.add(path)
        events += [
            object_delete(t, CHAIN_HOST, ATTACKER_USER, session.lid, path, PAYLOAD),
            file_created(
                t + timedelta(milliseconds=3), CHAIN_HOST, PAYLOAD, guid, path + EXTENSION
            ),
            file_deleted(
                t + timedelta(milliseconds=5), CHAIN_HOST, PAYLOAD, guid, path, session.account
            ),
        ]
    return events
