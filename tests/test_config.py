"""Settings come from TOCSIN_* variables, then the TOML file, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.config import load_settings
from tocsin.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TOCSIN_DATABASE_URL", "TOCSIN_LANGUAGE", "TOCSIN_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path / "home"))


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.language == "fr"
    assert settings.home == tmp_path / "home"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'home' / 'tocsin.db'}"
    assert settings.web.port == 8000


def test_toml_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text(
        'language = "en"\ndatabase_url = "sqlite:///x.db"\n'
        '[smtp]\nhost = "mail.example.org"\nport = 25\n[web]\nport = 9000\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    settings = load_settings()
    assert settings.language == "en"
    assert settings.smtp.host == "mail.example.org"
    assert settings.smtp.port == 25
    assert settings.web.port == 9000
    monkeypatch.setenv("TOCSIN_LANGUAGE", "FR")
    monkeypatch.setenv("TOCSIN_WEB__PORT", "9100")
    settings = load_settings()
    assert settings.language == "fr"
    assert settings.web.port == 9100


def test_toml_in_home_is_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "tocsin.toml").write_text('language = "en"\n', encoding="utf-8")
    assert load_settings().language == "en"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('language = "de"\n', "language"),
        ("[web]\nport = 0\n", "web.port"),
        ('unknown_key = "x"\n', "unknown_key"),
    ],
)
def test_invalid_settings_name_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, expected: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert expected in str(caught.value)


def test_broken_toml_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("language = \n", encoding="utf-8")
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    with pytest.raises(ConfigError, match="broken.toml"):
        load_settings()


def test_secret_key_generated_once_and_private(tmp_path: Path) -> None:
    settings = load_settings()
    key = settings.web_secret_key()
    assert len(key) >= 32
    path = tmp_path / "home" / "secret_key"
    assert path.stat().st_mode & 0o077 == 0
    assert load_settings().web_secret_key() == key


def test_secrets_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("TOCSIN_SMTP__PASSWORD_FILE", str(secret))
    key = tmp_path / "web-key"
    key.write_text("k" * 40, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_WEB_SECRET_KEY_FILE", str(key))
    settings = load_settings()
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.web_secret_key() == "k" * 40
