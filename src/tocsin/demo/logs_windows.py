"""Windows events of the demo hospital, as Winlogbeat (ECS) JSON lines.

Background activity of ordinary days on domain controllers, file servers, Citrix servers
and care-unit and office workstations (Security 4624/4634, Sysmon 1 process creations,
Sysmon 11 file creations, System 7036 service changes, nightly backup checks), and on one
file server a ransomware intrusion (:mod:`tocsin.demo.logs_chain`). Host names are the
demo inventory's asset ids (``srv-fic-01``); a workstation of a fleet is the fleet's id
plus a number (``pc-w10-urg-03``). Pure: events in memory, written by :mod:`.logs`.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DOMAIN = "CHDEMO"
FQDN = "chdemo.local"
SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon")
SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
SYSTEM = ("System", "Service Control Manager")
PARIS = ZoneInfo("Europe/Paris")
SYS32 = "C:\\Windows\\System32\\"
SYSTEM_USER = "NT AUTHORITY\\SYSTEM"


@dataclass(frozen=True)
class Host:
    """A Windows machine of the demo hospital: name, address, what it does."""

    name: str
    ip: str
    role: str  # dc, file, citrix, server, care (24/7 unit), office (weekday hours)


def _fleet(asset: str, count: int, subnet: str, role: str) -> list[Host]:
    return [Host(f"{asset}-{n:02}", f"10.20.{subnet}.{10 + n}", role) for n in range(1, count + 1)]


HOSTS: tuple[Host, ...] = (
    Host("srv-dc-01", "10.10.1.11", "dc"),
    Host("srv-dc-02", "10.10.1.12", "dc"),
    Host("srv-dc-03", "10.10.1.13", "dc"),
    Host("srv-pki-01", "10.10.1.20", "server"),
    Host("srv-fic-01", "10.10.2.21", "file"),
    Host("srv-fic-02", "10.10.2.22", "file"),
    Host("srv-fic-03", "10.10.2.23", "file"),
    Host("srv-print-01", "10.10.2.30", "server"),
    Host("srv-wsus-01", "10.10.2.31", "server"),
    Host("srv-legacy-01", "10.10.2.40", "server"),
    Host("srv-xa-01", "10.10.3.41", "citrix"),
    Host("srv-xa-02", "10.10.3.42", "citrix"),
    Host("srv-xa-03", "10.10.3.43", "citrix"),
    Host("srv-xa-04", "10.10.3.44", "citrix"),
    *_fleet("pc-w10-urg", 3, "11", "care"),
    *_fleet("pc-w10-rea", 2, "12", "care"),
    *_fleet("pc-w10-bloc", 2, "13", "care"),
    *_fleet("pc-w10-img", 2, "14", "care"),
    *_fleet("pc-w10-labo", 2, "15", "care"),
    *_fleet("pc-w10-pui", 1, "16", "office"),
    *_fleet("pc-w10-med", 2, "17", "care"),
    *_fleet("pc-w10-cardio", 2, "18", "care"),
    *_fleet("pc-w10-chir", 2, "19", "care"),
    *_fleet("pc-w10-ger", 2, "20", "care"),
    *_fleet("pc-ltsc-chariots-med", 2, "21", "care"),
    *_fleet("pc-w10-consult", 2, "22", "office"),
    *_fleet("pc-w10-adm", 3, "23", "office"),
    *_fleet("pc-w10-tech", 2, "25", "office"),
    *_fleet("pc-w11-dsi", 2, "27", "office"),
)
USERS = (
    "m.durand", "s.martin", "c.bernard", "l.petit", "n.robert", "j.richard", "a.moreau",
    "e.laurent", "p.simon", "i.michel", "v.lefebvre", "k.leroy", "h.roux", "b.david",
    "f.bertrand", "g.morel", "t.fournier", "r.girard", "d.bonnet", "o.dupont",
)  # fmt: skip
SHARES = (
    "Urgences", "Reanimation", "Bloc", "Imagerie", "Laboratoire", "Pharmacie", "Medecine",
    "Cardiologie", "Chirurgie", "Geriatrie", "Pediatrie", "Consultations", "Direction",
    "RH", "Finances", "Qualite", "Logistique", "Technique", "DSI", "Biomedical",
)  # fmt: skip
SUBFOLDERS = ("Plannings", "Protocoles", "Comptes-rendus")
APPS = {
    "care": (
        ("C:\\Program Files (x86)\\Citrix\\ICA Client\\wfica32.exe", "wfica32.exe", "DxCare"),
        ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "chrome.exe", ""),
        ("C:\\Program Files (x86)\\Java\\jre1.8.0_401\\bin\\javaw.exe", "javaw.exe", "MUSE"),
        ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "WinWord.exe", ""),
    ),
    "office": (
        ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "Outlook.exe", ""),
        ("C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "Excel.exe", ""),
        ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "WinWord.exe", ""),
        ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "msedge.exe", ""),
        ("C:\\Program Files\\Microsoft Office\\root\\Office16\\Teams.exe", "Teams.exe", ""),
    ),
}
SERVICES = (
    "Windows Update", "Background Intelligent Transfer Service", "WinHTTP Web Proxy "
    "Auto-Discovery Service", "Windows Modules Installer", "Software Protection",
)  # fmt: skip


@dataclass
class WinEvent:
    """One Windows event before its record number is known."""

    time: datetime
    host: str
    channel: tuple[str, str]  # (channel, provider)
    event_id: int
    data: dict[str, str] = field(default_factory=dict)

    def document(self, record_id: int) -> dict[str, Any]:
        """The Winlogbeat 8 JSON object of the event."""
        channel, provider = self.channel
        stamp = self.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.time.microsecond // 1000:03}Z"
        return {
            "@timestamp": stamp,
            "agent": {"type": "winlogbeat", "version": "8.15.3"},
            "event": {"code": str(self.event_id), "provider": provider},
            "host": {"name": self.host},
            "winlog": {
                "channel": channel,
                "computer_name": self.host,
                "event_id": self.event_id,
                "provider_name": provider,
                "record_id": record_id,
                "event_data": self.data,
            },
        }


class Ids:
    """Process ids, Sysmon GUIDs and logon ids, drawn from the generator's own stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pid(self) -> str:
        return str(self.rng.randrange(1000, 30000, 4))

    def guid(self, host: str) -> str:
        prefix = hashlib.sha256(host.encode()).hexdigest()[:8]
        tail = f"{self.rng.getrandbits(48):012x}"
        return f"{{{prefix}-{self.rng.getrandbits(16):04x}-6a1e-0000-{tail}}}"

    def logon(self) -> str:
        return f"0x{self.rng.randrange(0x100000, 0x9FFFFFF):x}"


def image_hash(image: str) -> str:
    """A stable made-up SHA256 for an image path (same file, same hash)."""
    return "SHA256=" + hashlib.sha256(image.lower().encode()).hexdigest().upper()


def process(
    t: datetime,
    host: str,
    ids: Ids,
    image: str,
    command: str,
    parent: tuple[str, str],
    user: str,
    logon_id: str = "0x3e7",
    guid: str | None = None,
    integrity: str = "Medium",
) -> WinEvent:
    """Sysmon 1: a process created (``parent`` is (image, command line))."""
    system = user == SYSTEM_USER
    name = image.rsplit("\\", 1)[-1]
    data = {
        "UtcTime": f"{t:%Y-%m-%d %H:%M:%S.%f}"[:-3],
        "ProcessGuid": guid or ids.guid(host),
        "ProcessId": ids.pid(),
        "Image": image,
        "OriginalFileName": name,
        "CommandLine": command,
        "CurrentDirectory": SYS32 if system else "C:\\Users\\" + user.split("\\")[-1],
        "User": user,
        "LogonId": logon_id,
        "IntegrityLevel": "System" if system else integrity,
        "Hashes": image_hash(image),
        "ParentProcessGuid": ids.guid(host),
        "ParentImage": parent[0],
        "ParentCommandLine": parent[1],
    }
    return WinEvent(t, host, SYSMON, 1, data)


def file_created(t: datetime, host: str, image: str, guid: str, path: str) -> WinEvent:
    """Sysmon 11: a file created or overwritten."""
    data = {
        "UtcTime": f"{t:%Y-%m-%d %H:%M:%S.%f}"[:-3],
        "ProcessGuid": guid,
        "Image": image,
        "TargetFilename": path,
        "CreationUtcTime": f"{t:%Y-%m-%d %H:%M:%S.%f}"[:-3],
    }
    return WinEvent(t, host, SYSMON, 11, data)


def file_deleted(t: datetime, host: str, image: str, guid: str, path: str, user: str) -> WinEvent:
    """Sysmon 26: a file deletion detected."""
    data = {
        "UtcTime": f"{t:%Y-%m-%d %H:%M:%S.%f}"[:-3],
        "ProcessGuid": guid,
        "User": user,
        "Image": image,
        "TargetFilename": path,
        "IsExecutable": "false",
    }
    return WinEvent(t, host, SYSMON, 26, data)


def object_delete(
    t: datetime, host: str, user: str, logon_id: str, path: str, image: str
) -> WinEvent:
    """Security 4663: a file opened with DELETE access (a deletion or a rename)."""
    data = {
        "SubjectUserName": user,
        "SubjectDomainName": DOMAIN,
        "SubjectLogonId": logon_id,
        "ObjectServer": "Security",
        "ObjectType": "File",
        "ObjectName": path,
        "AccessList": "%%1537",
        "AccessMask": "0x10000",
        "ProcessName": image,
    }
    return WinEvent(t, host, SECURITY, 4663, data)


def logon(t: datetime, host: str, user: str, logon_id: str, kind: int, ip: str) -> WinEvent:
    """Security 4624: an account logged on (``kind`` is the LogonType)."""
    network = kind in (3, 10)
    data = {
        "SubjectUserName": "-" if network else host.upper() + "$",
        "SubjectDomainName": "-" if network else DOMAIN,
        "TargetUserName": user,
        "TargetDomainName": DOMAIN,
        "TargetLogonId": logon_id,
        "LogonType": str(kind),
        "LogonProcessName": "Kerberos" if kind == 3 else "User32",
        "AuthenticationPackageName": "Kerberos" if kind != 10 else "Negotiate",
        "WorkstationName": "-" if kind == 3 else host.upper(),
        "IpAddress": ip,
        "IpPort": "0" if ip == "-" else "49" + f"{len(user) * 37 % 1000:03}",
        "ProcessName": "-" if kind == 3 else SYS32 + "svchost.exe",
        "ElevatedToken": "%%1843",
    }
    return WinEvent(t, host, SECURITY, 4624, data)


def logoff(t: datetime, host: str, user: str, logon_id: str, kind: int) -> WinEvent:
    """Security 4634: a logon session ended."""
    data = {
        "TargetUserName": user,
        "TargetDomainName": DOMAIN,
        "TargetLogonId": logon_id,
        "LogonType": str(kind),
    }
    return WinEvent(t, host, SECURITY, 4634, data)


def service_state(t: datetime, host: str, name: str, state: str) -> WinEvent:
    """System 7036: a service entered the running or stopped state."""
    return WinEvent(t, host, SYSTEM, 7036, {"param1": name, "param2": state})


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    t = start
    while t < end:
        yield t
        t += timedelta(hours=1)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; a normal approximation above 50)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, count, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def system_guid(host: str) -> str:
    """The ProcessGuid of the System process (PID 4) of a host, stable over the days."""
    return f"{{{hashlib.sha256(host.encode()).hexdigest()[:8]}-0000-6a1e-0000-000000000004}}"


def document_name(rng: random.Random) -> str:
    """A plausible hospital document file name."""
    kind = rng.choice(
        (
            "Planning_{m}_2026.xlsx",
            "Protocole_{w}_v{n}.docx",
            "CR_reunion_{d:02}-{m}.docx",
            "Export_{w}_{d:02}{n}.csv",
            "Procedure_{w}.pdf",
            "Tableau_de_garde_{m}.xlsx",
        )
    )
    word = rng.choice(("hygiene", "transfusion", "douleur", "chutes", "isolement", "admissions"))
    month = rng.choice(("janvier", "octobre", "novembre", "decembre"))
    return kind.format(m=month, w=word, n=rng.randrange(1, 9), d=rng.randrange(1, 29))


_ROLE_SESSIONS = {"care": 1.4, "office": 1.0}
_DCS = tuple(h for h in HOSTS if h.role == "dc")
_FILE_SERVERS = tuple(h for h in HOSTS if h.role == "file")
_CITRIX = tuple(h for h in HOSTS if h.role == "citrix")
_EXPLORER = ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE")
_SVCHOST = (SYS32 + "svchost.exe", SYS32 + "svchost.exe -k netsvcs -p -s Schedule")


def activity(role: str, local: datetime) -> float:
    """How busy a workstation is at this local hour (1 = a weekday's working hour)."""
    hour = local.hour
    if role == "care":
        return 0.3 if hour < 7 or hour >= 21 else 1.0
    if local.weekday() >= 5 or hour < 7 or hour >= 19:
        return 0.02
    return 0.5 if hour in (7, 18) else 1.0


def background(rng: random.Random, start: datetime, end: datetime) -> list[WinEvent]:
    """Ordinary activity of every host of :data:`HOSTS` between ``start`` and ``end``."""
    ids = Ids(rng)
    events: list[WinEvent] = []
    for hour in hours(start, end):
        local = hour.astimezone(PARIS)
        for host in HOSTS:
            if host.role in _ROLE_SESSIONS:
                count = poisson(rng, _ROLE_SESSIONS[host.role] * activity(host.role, local))
                for _ in range(count):
                    moment = hour + timedelta(seconds=rng.uniform(0, 3600))
                    events.extend(session(rng, ids, host, moment))
            events.extend(_housekeeping(rng, ids, host, hour, local))
    return [e for e in events if start <= e.time < end]


def session(rng: random.Random, ids: Ids, host: Host, t: datetime) -> list[WinEvent]:
    """A user's session on a workstation, with its traces on a DC and a file server."""
    user, lid = rng.choice(USERS), ids.logon()
    account = f"{DOMAIN}\\{user}"
    length = timedelta(minutes=rng.uniform(8, 150))
    dc, share = rng.choice(_DCS), rng.choice(_FILE_SERVERS)
    share_lid = ids.logon()
    events = [
        logon(t, host.name, user, lid, rng.choice((2, 2, 11)), "127.0.0.1"),
        logon(t + timedelta(seconds=0.4), dc.name, user, ids.logon(), 3, host.ip),
        logon(t + timedelta(seconds=3), share.name, user, share_lid, 3, host.ip),
        logoff(t + length, host.name, user, lid, 2),
        logoff(t + length + timedelta(seconds=2), share.name, user, share_lid, 3),
    ]
    apps = APPS[host.role]
    for app in rng.sample(apps, rng.randrange(1, 4)):
        when = t + timedelta(seconds=rng.uniform(15, length.total_seconds() - 5))
        image, original, arg = app
        command = f'"{image}"' + (f" /app {arg}" if arg else "")
        events.append(process(when, host.name, ids, image, command, _EXPLORER, account, lid))
        if original == "wfica32.exe":
            events.extend(citrix_session(rng, ids, host, user, when))
    if rng.random() < 0.5:
        events.extend(saved_on_share(rng, share, user, share_lid, t + length / 2))
    if rng.random() < 0.3:
        path = f"C:\\Users\\{user}\\Downloads\\{document_name(rng).rsplit('.', 1)[0]}.pdf"
        when = t + length / 3
        image = apps[1][0]
        events.append(file_created(when, host.name, image, ids.guid(host.name), path))
    return events


def citrix_session(
    rng: random.Random, ids: Ids, host: Host, user: str, t: datetime
) -> list[WinEvent]:
    """The DxCare published application opened on a Citrix server."""
    server, lid = rng.choice(_CITRIX), ids.logon()
    image = "C:\\Program Files (x86)\\Softway Medical\\DxCare\\DxCare.exe"
    shell = "C:\\Program Files (x86)\\Citrix\\System32\\wfshell.exe"
    parent = (shell, shell)
    account = f"{DOMAIN}\\{user}"
    return [
        logon(t + timedelta(seconds=2), server.name, user, lid, 10, host.ip),
        process(
            t + timedelta(seconds=6), server.name, ids, image, f'"{image}"', parent, account, lid
        ),
        logoff(t + timedelta(minutes=rng.uniform(5, 60)), server.name, user, lid, 10),
    ]


def saved_on_share(
    rng: random.Random, share: Host, user: str, lid: str, t: datetime
) -> list[WinEvent]:
    """A user saves a document on the file server over SMB (and sometimes deletes one)."""
    folder = f"D:\\Partages\\{rng.choice(SHARES)}\\{rng.choice(SUBFOLDERS)}"
    path = f"{folder}\\{document_name(rng)}"
    guid = system_guid(share.name)
    events = [file_created(t, share.name, "System", guid, path)]
    if rng.random() < 0.2:
        old = f"{folder}\\{document_name(rng)}"
        later = t + timedelta(seconds=rng.uniform(5, 60))
        events.append(object_delete(later, share.name, user, lid, old, "System"))
        events.append(file_deleted(later, share.name, "System", guid, old, f"{DOMAIN}\\{user}"))
    return events


def _housekeeping(
    rng: random.Random, ids: Ids, host: Host, hour: datetime, local: datetime
) -> list[WinEvent]:
    """Service changes, the nightly update scan and, on file servers, the backup check."""
    events = [
        service_state(
            hour + timedelta(seconds=rng.uniform(0, 3600)), host.name, rng.choice(SERVICES), state
        )
        for state in ("running", "stopped")
        for _ in range(poisson(rng, 0.2))
    ]
    if local.hour == 3:
        scan = hour + timedelta(minutes=rng.uniform(0, 40))
        command = SYS32 + "UsoClient.exe StartScan"
        events.append(
            process(scan, host.name, ids, SYS32 + "UsoClient.exe", command, _SVCHOST, SYSTEM_USER)
        )
        events.append(service_state(scan, host.name, "Windows Update", "running"))
        events.append(
            service_state(scan + timedelta(minutes=17), host.name, "Windows Update", "stopped")
        )
    if host.role == "file" and local.hour == 21:
        events.extend(backup_check(rng, ids, host, hour + timedelta(minutes=30)))
    return events


def backup_check(rng: random.Random, ids: Ids, host: Host, t: datetime) -> list[WinEvent]:
    """The nightly script that lists shadow copies and backups before the Veeam job."""
    script = ("C:\\Windows\\System32\\cmd.exe", 'cmd.exe /c "D:\\Scripts\\verif_sauvegarde.cmd"')
    account = f"{DOMAIN}\\svc-sauvegarde"
    wait = timedelta(seconds=rng.uniform(1, 3))
    return [
        process(t, host.name, ids, script[0], script[1], _SVCHOST, account),
        process(
            t + wait,
            host.name,
            ids,
            SYS32 + "vssadmin.exe",
            "vssadmin list shadows /for=D:",
            script,
            account,
        ),
        process(
            t + 2 * wait,
            host.name,
            ids,
            SYS32 + "wbadmin.exe",
            "wbadmin get versions",
            script,
            account,
        ),
    ]
