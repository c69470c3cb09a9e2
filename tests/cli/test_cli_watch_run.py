"""``tocsin watch run`` with the [notify] settings, ``watch status``, and feed tokens on the
command line (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Run, runner

from tocsin.store.db import open_database
from tocsin.store.watch_runs import acquire_lease
from tocsin.watch.runs import RUN_LEASE

FIXTURES = Path(__file__).parents[1] / "watch" / "sources" / "fixtures"
INVENTORY = """id,name,vendor,product,version,cpe,purl,kind,criticality,exposure,function
fw-01,Pare-feu Internet,Palo Alto Networks,PAN-OS,10.2.5,,,appliance,vital,internet,infra
"""


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "json": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Hook", (_Hook,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def run(cli_env: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("COLUMNS", "250")
    for name in ("TOCSIN_NOTIFY_TO", "TOCSIN_NOTIFY_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    return runner(capsys)


@pytest.fixture
def loaded(run: Run, tmp_path: Path) -> Run:
    for slug in ("ch-a", "ch-b"):
        assert run("establishment", "add", slug, "--name", slug.upper()).code == 0
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(INVENTORY, encoding="utf-8")
    assert run("inventory", "import", str(inventory), "-e", "ch-a").code == 0
    cve = FIXTURES / "cve5" / "panos-kev.json"
    result = run("watch", "load", f"cve5={cve}", f"kev={FIXTURES / 'kev' / 'catalogue.json'}")
    assert result.code == 0, result.err
    return run


def _configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    secrets = tmp_path / "webhooks.txt"
    secrets.write_text(f"# ch-a's channel\n{base}/a/secret-token-a\n", encoding="utf-8")
    config = tmp_path / "tocsin.toml"
    config.write_text(
        f"""
[notify]
webhooks = ["{base}/all/secret-token-all"]
webhook_mode = "json"
lang = "fr"

[notify.establishments.ch-a]
webhooks_file = "{secrets.as_posix()}"
webhook_mode = "mattermost"
lang = "en"
period = "weekly"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))


def test_run_notifies_as_the_settings_say(
    loaded: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hook: tuple[str, list[dict[str, Any]]],
) -> None:
    base, received = hook
    _configure(tmp_path, monkeypatch, base)
    result = loaded("watch", "run", "--no-update", "--notify", "--bulletins", str(tmp_path / "b"))
    assert result.code == 0, result.err
    by_path = {r["path"]: r["json"] for r in received}
    assert set(by_path) == {"/a/secret-token-a", "/all/secret-token-all"}
    ch_a = by_path["/a/secret-token-a"]
    assert ch_a["username"] == "Tocsin"
    assert ch_a["text"].startswith("# Weekly watch bulletin — CH-A")
    assert by_path["/all/secret-token-all"]["lang"] == "fr"  # ch-b: the global settings
    assert "secret-token" not in result.err + result.out
    assert f"webhook {base}/…: sent" in result.err_text
    # The command line still wins over the settings.
    received.clear()
    again = loaded(
        "watch", "run", "--no-update", "--notify", "-e", "ch-b", "--bulletins",
        str(tmp_path / "b"), "--webhook", f"{base}/cli", "--webhook-mode", "teams",
    )  # fmt: skip
    assert again.code == 0, again.err
    [only] = received
    assert only["path"] == "/cli" and only["json"]["type"] == "message"


def test_status_lists_runs_for_monitoring(
    loaded: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = loaded("watch", "status", "-f", "json")
    assert empty.code == 0 and json.loads(empty.out) == {"version": 1, "runs": []}
    assert "scheduler: off" in empty.err_text
    assert loaded("watch", "status", "--max-age", "24").code == 1
    args = ("watch", "run", "--no-update", "--bulletins", str(tmp_path / "b"))
    assert loaded(*args).code == 0
    assert loaded("watch", "status", "--max-age", "24").code == 0
    dead = loaded(*args, "--notify", "--webhook", "http://127.0.0.1:9/x")
    assert dead.code == 4
    rows = loaded("watch", "status", "-f", "jsonl").jsonl()
    assert [(r["trigger"], r["outcome"]) for r in rows] == [("cli", "partial"), ("cli", "ok")]
    assert rows[1]["counts"]["establishments"]["ch-a"]["created"] == 1
    assert loaded("watch", "status", "--max-age", "24").code == 1
    monkeypatch.setenv("TOCSIN_SCHEDULE__ENABLED", "true")
    monkeypatch.setenv("TOCSIN_SCHEDULE__DAILY_AT", "05:45")
    table = loaded("watch", "status")
    assert table.code == 0 and "scheduler: next run" in table.err_text and "partial" in table.out


def test_run_refuses_while_another_process_runs(loaded: Run, cli_env: Any) -> None:
    database = open_database(cli_env.database_url)
    try:
        assert acquire_lease(
            database, RUN_LEASE, "other-host:1:x", timedelta(minutes=10), datetime.now(UTC)
        )
    finally:
        database.dispose()
    busy = loaded("watch", "run", "--no-update")
    assert busy.code == 4 and "another watch run is in progress" in busy.err_text
    assert "other-host:1:x" in busy.err_text


def test_feed_tokens_on_the_command_line(loaded: Run) -> None:
    assert loaded("user", "add", "ana", "--role", "analyst", "-e", "ch-a").code == 0
    made = loaded("user", "feed-token", "create", "ana", "-e", "ch-a", "--label", "Outlook")
    assert made.code == 0, made.err
    url = made.out.strip()
    assert url.startswith("http://127.0.0.1:8000/watch/ch-a/feed.atom?token=tcf_")
    rows = loaded("user", "feed-token", "list", "ana", "-f", "jsonl").jsonl()
    assert [(r["label"], r["establishment"]) for r in rows] == [("Outlook", "ch-a")]
    assert url.split("token=")[1] not in json.dumps(rows)
    assert loaded("user", "feed-token", "create", "ana", "-e", "ch-b").code == 2
    assert loaded("user", "feed-token", "revoke", str(rows[0]["id"])).code == 0
    assert loaded("user", "feed-token", "list", "-f", "jsonl").jsonl() == []
    assert len(loaded("user", "feed-token", "list", "--revoked", "-f", "jsonl").jsonl()) == 1
    assert loaded("user", "feed-token", "revoke", "999").code == 2
