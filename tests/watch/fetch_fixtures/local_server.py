"""A real HTTP(S) server on 127.0.0.1 for the fetch tests: recorded files, scripted answers.

Nothing here reaches the Internet. Files under this folder are served with ``{{BASE}}``
replaced by the server's own address, so that discovery documents (provider metadata, ROLIE
feeds, RSS) point back at the server. HTTPS uses a throw-away self-signed certificate made
with the ``openssl`` command (tests that need it skip when the command is missing).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_length: bool = True


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


Route = Callable[[Seen], Answer]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: dict[str, Route]
    seen: list[Seen]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        parts = urlsplit(self.path)
        seen = Seen(
            parts.path,
            dict(parse_qsl(parts.query)),
            {name.lower(): value for name, value in self.headers.items()},
        )
        self.server.seen.append(seen)
        route = self.server.routes.get(parts.path)
        answer = route(seen) if route is not None else Answer(404, b"not found")
        time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.content_length:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client stopped reading (a refused body): expected

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class LocalServer:
    """Serves ``routes`` (path → function of the request) on an ephemeral port."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = {}
        self._server.seen = []
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        port = self._server.server_address[1]
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def seen(self) -> list[Seen]:
        return self._server.seen

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def fixture(self, name: str) -> bytes:
        return (FIXTURES / name).read_bytes().replace(b"{{BASE}}", self.base.encode())

    def route(self, path: str, function: Route) -> None:
        self._server.routes[path] = function

    def script(self, path: str, *answers: Answer) -> None:
        """Answer the requests to ``path`` in turn; the last answer repeats."""
        queue = list(answers)

        def answer(_: Seen) -> Answer:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.route(path, answer)

    def serve(
        self,
        path: str,
        name: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """A fixture file, honouring If-None-Match / If-Modified-Since like a web server."""

        def answer(seen: Seen) -> Answer:
            headers = {"Content-Type": content_type}
            if etag is not None:
                headers["ETag"] = etag
            if last_modified is not None:
                headers["Last-Modified"] = last_modified
            if etag is not None and seen.headers.get("if-none-match") == etag:
                return Answer(304, headers=headers)
            if last_modified is not None and seen.headers.get("if-modified-since") == last_modified:
                return Answer(304, headers=headers)
            return Answer(200, self.fixture(name), headers)

        self.route(path, answer)


@contextmanager
def local_server(tls: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    server = LocalServer(tls)
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


def make_tls(folder: Path) -> Tls | None:
    """A self-signed certificate for 127.0.0.1; None when ``openssl`` is not installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return Tls(server, client)


class FakeClock:
    """A monotonic clock that only moves when something sleeps; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
