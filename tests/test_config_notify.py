"""The [notify] and [schedule] settings: TOML, environment, secrets from files, overrides."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from tocsin.config import load_settings, redact_url
from tocsin.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TOCSIN_CONFIG", "TOCSIN_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path / "home"))


def _toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "tocsin.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_CONFIG", str(path))


def test_defaults_send_nothing_and_schedule_nothing() -> None:
    settings = load_settings()
    target = settings.notify.target("any")
    assert (target.recipients, target.webhooks, target.webhook_mode) == ((), (), "json")
    assert (target.lang, target.period) == (None, "daily")
    assert not settings.schedule.enabled and settings.schedule.daily_at == time(6, 30)
    assert settings.schedule.weekly_on == "monday" and settings.schedule.source == "feeds"


def test_per_establishment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = tmp_path / "hooks"
    hooks.write_text("\n# comment\nhttps://chat.example/hooks/abc123\n", encoding="utf-8")
    _toml(
        tmp_path,
        monkeypatch,
        f"""
[notify]
to = ["rssi@ght.example"]
webhooks = ["https://teams.example/workflows/xyz?sig=s3cr3t"]
webhook_mode = "teams"
lang = "fr"
period = "daily"

[notify.establishments.ch-b]
to = ["dsi@ch-b.example", "rssi@ch-b.example"]
webhooks_file = "{hooks.as_posix()}"
webhook_mode = "mattermost"
lang = "en"
period = "weekly"

[notify.establishments.ehpad-c]
webhooks = []
""",
    )
    notify = load_settings().notify
    a, b, c = (notify.target(s) for s in ("chu-a", "ch-b", "ehpad-c"))
    assert a.recipients == ("rssi@ght.example",) and a.webhook_mode == "teams"
    assert [w.get_secret_value() for w in a.webhooks] == [
        "https://teams.example/workflows/xyz?sig=s3cr3t"
    ]
    assert b.recipients == ("dsi@ch-b.example", "rssi@ch-b.example")
    assert [w.get_secret_value() for w in b.webhooks] == ["https://chat.example/hooks/abc123"]
    assert (b.webhook_mode, b.lang, b.period) == ("mattermost", "en", "weekly")
    assert c.webhooks == () and c.recipients == ("rssi@ght.example",)
    assert "s3cr3t" not in repr(notify) and "abc123" not in str(notify.model_dump())


def test_environment_and_secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = tmp_path / "hooks"
    hooks.write_text("https://mm.example/hooks/from-file\n", encoding="utf-8")
    monkeypatch.setenv("TOCSIN_NOTIFY__TO", '["a@b.example"]')
    monkeypatch.setenv("TOCSIN_NOTIFY__WEBHOOKS_FILE", str(hooks))
    monkeypatch.setenv("TOCSIN_NOTIFY__WEBHOOK_MODE", "text")
    monkeypatch.setenv("TOCSIN_SCHEDULE__ENABLED", "true")
    monkeypatch.setenv("TOCSIN_SCHEDULE__DAILY_AT", "07:05")
    monkeypatch.setenv("TOCSIN_SCHEDULE__WEEKLY_ON", "Friday")
    monkeypatch.setenv("TOCSIN_SCHEDULE__TIMEZONE", "Europe/Paris")
    settings = load_settings()
    target = settings.notify.target("x")
    assert target.recipients == ("a@b.example",) and target.webhook_mode == "text"
    assert [w.get_secret_value() for w in target.webhooks] == ["https://mm.example/hooks/from-file"]
    schedule = settings.schedule
    assert schedule.enabled and schedule.daily_at == time(7, 5)
    assert schedule.weekly_on == "friday" and schedule.zone() is not None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[notify]\nwebhooks = ["ftp://x"]\n', "notify.webhooks"),
        ('[notify]\nwebhook_mode = "slack"\n', "notify.webhook_mode"),
        ('[notify]\nwebhooks_file = "/nonexistent/hooks"\n', "notify"),
        ('[notify.establishments."CH A"]\nlang = "en"\n', "notify.establishments"),
        ("[notify.establishments.ch-a]\nunknown = 1\n", "notify.establishments"),
        ('[schedule]\ndaily_at = "6h30"\n', "schedule.daily_at"),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone"),
        ('[schedule]\nweekly_on = "someday"\n', "schedule.weekly_on"),
        ('[schedule]\nsource = "mirror"\n', "schedule"),
    ],
)
def test_bad_values_name_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, field: str
) -> None:
    _toml(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"[{field}") or field in str(caught.value)


def test_a_bad_webhook_never_shows_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _toml(tmp_path, monkeypatch, '[notify]\nwebhooks = ["hooks.example/with token"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "with token" not in str(caught.value)


def test_redacted_urls_keep_only_scheme_and_host() -> None:
    assert redact_url("https://user:pw@outlook.example:443/webhook/abc?x=1") == (
        "https://outlook.example:443/…"
    )
    assert redact_url("nonsense") == "…"
