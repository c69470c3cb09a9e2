"""A real Dovecot IMAP server on loopback for the report-mailbox tests.

The server runs as the current user from a configuration written into a temporary folder
(no TLS: loopback only; one user with a plain password; Maildir under the folder). It is
skipped when ``/usr/sbin/dovecot`` is missing (``apt-get install dovecot-imapd``), unless
``TOCSIN_REQUIRE_DOVECOT=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import contextlib
import getpass
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = Path("/usr/sbin/dovecot")
REQUIRE = os.environ.get("TOCSIN_REQUIRE_DOVECOT") == "1"
USER = "signalement@ch-exemple.fr"
PASSWORD = "mot-de-passe-de-test"  # noqa: S105 - a throwaway account of a test server

_CONFIG = """\
# Written by tests/phishing/dovecot_support.py
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_location = maildir:{base}/mail/%u
first_valid_uid = {uid}
first_valid_gid = {gid}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
}}
"""


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    folder: Path

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text("utf-8", "replace") if path.is_file() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as s:
        return s.recv(64).startswith(b"* OK")
    return False


def _accounts() -> tuple[str, str, int, int]:
    """(login user, internal user, uid, gid of the mail files).

    As an ordinary user everything runs as that user. As root (CI containers) Dovecot
    refuses to run its login process or open mail as root: the Debian package's own
    unprivileged users, dovenull and dovecot, take those parts.
    """
    if os.getuid() != 0:
        user = getpass.getuser()
        return user, user, os.getuid(), os.getgid()
    mail = pwd.getpwnam("dovecot")
    return "dovenull", "dovecot", mail.pw_uid, mail.pw_gid


def _write_config(base: Path, port: int) -> Path:
    login_user, internal_user, uid, gid = _accounts()
    for sub in ("run", "state", "mail"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    os.chown(base / "mail", uid, gid)
    (base / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{base}/mail/{USER}::\n", "utf-8"
    )
    (base / "users").chmod(0o644)
    config = base / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            base=base,
            port=port,
            login_user=login_user,
            internal_user=internal_user,
            uid=min(uid, 500),
            gid=min(gid, 500),
        ),
        "utf-8",
    )
    return config


@contextlib.contextmanager
def _folder() -> Iterator[Path]:
    """A folder under /tmp the unprivileged Dovecot processes can reach, removed after.

    (pytest's tmp_path sits under a folder only its owner may enter.)
    """
    base = Path(tempfile.mkdtemp(prefix="tocsin-dovecot-"))
    base.chmod(0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def dovecot_server() -> Iterator[Dovecot]:
    """Dovecot started in the foreground (``dovecot -F -c conf``), stopped afterwards."""
    if not DOVECOT.exists():
        message = f"{DOVECOT} is missing (apt-get install dovecot-imapd)"
        if REQUIRE:
            pytest.fail(f"{message}, and TOCSIN_REQUIRE_DOVECOT=1")
        pytest.skip(message)
    port = _free_port()
    with _folder() as base:
        config = _write_config(base, port)
        server = Dovecot("127.0.0.1", port, USER, PASSWORD, base)
        with (base / "stderr.log").open("wb") as stderr:
            process = subprocess.Popen(  # noqa: S603 - our own binary and configuration
                [str(DOVECOT), "-F", "-c", str(config)], stdout=stderr, stderr=stderr
            )
        try:
            _wait(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(server: Dovecot, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not _answers(server.port):
        if process.poll() is not None or time.monotonic() > deadline:
            error = (server.folder / "stderr.log").read_text("utf-8", "replace")
            pytest.fail(f"dovecot did not start: {error}\n{server.log()}")
        time.sleep(0.1)
