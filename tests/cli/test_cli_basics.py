"""``tocsin`` end to end: version, usage errors, --debug, init, establishments, users, db."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import Run, runner

from tocsin import __version__, accounts
from tocsin.store import audit
from tocsin.store.db import open_database

PASSWORD = re.compile(r"password \(shown once\): (\S+)")


@pytest.fixture
def run(cli_env: object, capsys: pytest.CaptureFixture[str]) -> Run:
    return runner(capsys)


def test_version(run: Run) -> None:
    result = run("--version")
    assert result.code == 0
    assert result.out.strip() == f"tocsin {__version__}"


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("no-such-command",),
        ("inventory",),
        ("inventory", "list", "--kind", "toaster"),
        ("inventory", "import"),
        ("establishment", "add", "ch-a"),
        ("inventory", "list", "--no-such-option"),
    ],
    ids=[
        "no-args",
        "unknown-command",
        "group-only",
        "bad-enum",
        "missing-arg",
        "missing-opt",
        "bad-opt",
    ],
)
def test_usage_errors_exit_2(run: Run, args: tuple[str, ...]) -> None:
    assert run(*args).code == 2


def test_error_is_one_line_without_debug_and_a_traceback_with_it(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    plain = run("inventory", "import", str(missing), "-e", "ch-a")
    assert plain.code == 3
    # One line; Rich's transient progress bar may leave an empty line before it.
    assert plain.err.strip() == f"error: {missing}: file not found"
    assert plain.out == ""
    debug = run("--debug", "inventory", "import", str(missing), "-e", "ch-a")
    assert debug.code == 3
    assert "Traceback (most recent call last)" in debug.err
    assert "InventoryError" in debug.err
    assert debug.err.rstrip().endswith(f"error: {missing}: file not found")


def test_init_creates_home_establishment_and_admin(run: Run) -> None:
    result = run(
        "init",
        "--establishment",
        "ch-a",
        "--name",
        "CH A",
        "--finess",
        "910009992",
        "--region",
        "Île-de-France",
        "--admin",
        "admin",
    )
    assert result.code == 0, result.err
    assert "added establishment ch-a" in result.out
    found = PASSWORD.search(result.out)
    assert found is not None
    assert "created admin account admin" in result.out
    listed = json.loads(run("establishment", "list", "--format", "json").out)
    assert listed["version"] == 1
    assert listed["establishments"] == [
        {
            "slug": "ch-a",
            "name": "CH A",
            "type": "ch",
            "finess": "910009992",
            "region": "Île-de-France",
            "assets": 0,
        }
    ]
    users = json.loads(run("user", "list", "--format", "json").out)["users"]
    assert users == [{"username": "admin", "role": "admin", "establishments": "*", "active": True}]
    # Plain init again is harmless.
    again = run("init")
    assert again.code == 0
    assert "home:" in again.out


def test_establishment_add_and_list(run: Run) -> None:
    assert run("establishment", "add", "ch-a", "--name", "CH A").code == 0
    added = run(
        "establishment", "add", "clinique-b", "--name", "Clinique B", "--type", "clinic",
        "--finess", "2A0000001",
    )  # fmt: skip
    assert added.code == 0
    assert added.out.strip() == "added establishment clinique-b"
    lines = run("establishment", "list", "--format", "jsonl").out.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["slug"] for r in rows] == ["ch-a", "clinique-b"]  # ordered by name
    assert rows[1]["type"] == "clinic" and rows[1]["finess"] == "2A0000001"
    table = run("establishment", "list")
    assert table.code == 0 and "clinique-b" in table.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Bad Slug", "--name", "X"), "must be lower-case"),
        (("ch-x", "--name", "X", "--finess", "12345"), "FINESS"),
    ],
)
def test_establishment_add_refuses_bad_values(
    run: Run, args: tuple[str, ...], message: str
) -> None:
    result = run("establishment", "add", *args)
    assert result.code == 2
    assert result.err.startswith("error: ") and message in result.err


def test_establishment_add_twice_is_a_usage_error(run: Run) -> None:
    assert run("establishment", "add", "ch-a", "--name", "CH A").code == 0
    again = run("establishment", "add", "ch-a", "--name", "CH A")
    assert again.code == 2
    assert "already exists" in again.err


def test_user_add_list_and_token(run: Run, database_url: str) -> None:
    assert run("establishment", "add", "ch-a", "--name", "CH A").code == 0
    alice = run("user", "add", "alice", "--role", "analyst", "-e", "ch-a")
    assert alice.code == 0, alice.err
    assert "created analyst account alice" in alice.out
    found = PASSWORD.search(alice.out)
    assert found is not None and len(found.group(1)) >= 12
    bob = run("user", "add", "bob", "--role", "viewer", "--password", "a long passphrase")
    assert bob.code == 0
    assert "shown once" not in bob.out

    listed = [json.loads(line) for line in run("user", "list", "-f", "jsonl").out.splitlines()]
    assert listed == [
        {"username": "alice", "role": "analyst", "establishments": ["ch-a"], "active": True},
        {"username": "bob", "role": "viewer", "establishments": [], "active": True},
    ]

    token = run("user", "token", "alice", "--name", "ci", "--days", "30")
    assert token.code == 0
    value = token.out.strip()
    assert value.startswith("tcs_") and "\n" not in value
    database = open_database(database_url)
    try:
        with database.session() as session:
            assert accounts.authenticate_token(session, value).username == "alice"
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("alice", "--password", "short"), "at least 12 characters"),
        (("alice", "-e", "no-such-establishment"), "no establishment"),
    ],
)
def test_user_add_refuses_bad_values(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run("user", "add", *args)
    assert result.code == 2
    assert message in result.err


def test_db_current_downgrade_upgrade(run: Run) -> None:
    upgraded = run("db", "upgrade")
    assert upgraded.code == 0
    head = upgraded.out.strip().removeprefix("schema at ")
    assert head and head != "empty"
    assert run("db", "current").out.strip() == f"current: {head}; head: {head}"
    down = run("db", "downgrade", "base")
    assert (down.code, down.out.strip()) == (0, "schema at empty")
    assert run("db", "current").out.strip() == f"current: empty; head: {head}"
    assert run("db", "upgrade").out.strip() == f"schema at {head}"
    # Any other command migrates on its own too.
    assert run("db", "downgrade", "base").code == 0
    assert run("establishment", "list", "-f", "json").code == 0
    assert run("db", "current").out.strip() == f"current: {head}; head: {head}"


def test_establishment_policy_shows_and_sets_the_due_delays(run: Run, database_url: str) -> None:
    assert run("establishment", "add", "ch-a", "--name", "CH A").code == 0
    shown = json.loads(run("establishment", "policy", "ch-a", "-f", "json").out)["policies"][0]
    assert (shown["act_now_days"], shown["track_days"]) == (2, None)  # the defaults
    result = run(
        "establishment", "policy", "ch-a", "--act-now-days", "1", "--track-days", "90",
        "--scheduled-days", "none", "--epss-poc", "0.2", "-f", "jsonl",
    )  # fmt: skip
    assert result.code == 0, result.err
    (row,) = result.jsonl()
    assert (row["act_now_days"], row["scheduled_days"], row["track_days"]) == (1, None, 90)
    assert row["epss_poc"] == 0.2 and row["out_of_cycle_days"] == 7  # untouched
    again = run("establishment", "policy", "ch-a", "-f", "jsonl").jsonl()[0]
    assert again == row  # stored
    database = open_database(database_url)
    try:
        with database.session() as session:
            changes = [e for e in audit.recent(session) if e.action == "watch.policy"]
    finally:
        database.dispose()
    assert len(changes) == 1 and changes[0].details["act_now_days"] == 1
    bad = run("establishment", "policy", "ch-a", "--act-now-days", "soon")
    assert bad.code == 2 and "--act-now-days" in bad.err_text
    assert run("establishment", "policy", "ch-a", "--act-now-days", "5000").code == 2
    assert run("establishment", "policy", "nowhere").code == 2
