"""``tocsin demo`` end to end: the password is shown once, re-runs are harmless."""

from __future__ import annotations

import re

import pytest
from cli_helpers import Run, runner

PASSWORD = re.compile(r"^password \(shown once\): (\S+)$", re.MULTILINE)


@pytest.fixture
def run(cli_env: object, capsys: pytest.CaptureFixture[str]) -> Run:
    return runner(capsys)


def test_demo_prints_everything_needed_to_sign_in(run: Run) -> None:
    first = run("demo")
    assert first.code == 0, first.err
    assert first.out.startswith("Centre hospitalier de démonstration (ch-demo): ")
    counted = re.search(r": (\d+) assets", first.out)
    assert counted is not None
    count = int(counted.group(1))
    assert 250 <= count <= 350
    assert f"({count} added, 0 changed, 0 removed, 0 unchanged)" in first.out
    assert "demo admin account: demo-admin" in first.out
    password = PASSWORD.search(first.out)
    assert password is not None and len(password.group(1)) >= 12
    assert "make serve" in first.out and ".venv/bin/tocsin serve" in first.out
    assert "http://127.0.0.1:8000/" in first.out
    assert "sign in as demo-admin" in first.out

    listed = run("inventory", "list", "-e", "ch-demo", "-f", "jsonl").jsonl()
    assert len(listed) == count

    second = run("demo")
    assert second.code == 0
    assert f"(0 added, 0 changed, 0 removed, {count} unchanged)" in second.out
    assert "demo-admin already exists" in second.out
    assert PASSWORD.search(second.out) is None
    assert password.group(1) not in second.out


def test_demo_reset_gives_a_new_password(run: Run) -> None:
    first = PASSWORD.search(run("demo").out)
    reset = run("demo", "--reset")
    assert reset.code == 0
    again = PASSWORD.search(reset.out)
    assert first is not None and again is not None
    assert again.group(1) != first.group(1)


def test_demo_follows_the_configured_dashboard_address(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_WEB__PORT", "8443")
    result = run("demo")
    assert "http://127.0.0.1:8443/" in result.out
