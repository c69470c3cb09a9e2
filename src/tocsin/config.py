"""Configuration from ``TOCSIN_*`` environment variables and an optional TOML file.

Precedence, highest first: environment variables, the TOML file named by
``TOCSIN_CONFIG`` (or ``$TOCSIN_HOME/tocsin.toml`` when it exists), then defaults.
Secrets (SMTP password, web secret key) may also be read from a file named by
``TOCSIN_<NAME>_FILE``, so that they never appear in a process listing.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tocsin.errors import ConfigError, Location

Language = Literal["fr", "en"]
DEFAULT_IMPORT_MAX_BYTES = 200 * 1024 * 1024


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tocsin"


class SmtpSettings(BaseModel):
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    sender: str = "tocsin@localhost"


class WebSettings(BaseModel):
    secret_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # None: secure cookies unless the dashboard is served on a loopback address over HTTP.
    cookie_secure: bool | None = None
    session_max_age: int = Field(default=8 * 3600, ge=60)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    base_url: str | None = None


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the optional TOML configuration file."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._data = _read_toml(_toml_path())

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _toml_path() -> Path | None:
    named = os.environ.get("TOCSIN_CONFIG")
    if named:
        return Path(named)
    home = os.environ.get("TOCSIN_HOME")
    candidate = (Path(home) if home else default_home()) / "tocsin.toml"
    return candidate if candidate.is_file() else None


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError("configuration file not found", Location(str(path))) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", Location(str(path))) from exc


class Settings(BaseSettings):
    """All of Tocsin's settings; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="TOCSIN_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    language: Language = "fr"
    aliases_file: Path | None = None
    import_max_bytes: int = Field(default=DEFAULT_IMPORT_MAX_BYTES, ge=1024)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @field_validator("language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'tocsin.db'}"

    def web_secret_key(self) -> str:
        """The key that signs session cookies.

        Taken from the settings, else from ``TOCSIN_WEB_SECRET_KEY_FILE``, else generated
        once into ``$TOCSIN_HOME/secret_key`` (mode 0600) so sessions survive restarts.
        """
        if self.web.secret_key is not None:
            return self.web.secret_key.get_secret_value()
        key_file = os.environ.get("TOCSIN_WEB_SECRET_KEY_FILE")
        if key_file:
            return Path(key_file).read_text(encoding="utf-8").strip()
        path = self.home / "secret_key"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        self.home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key


def _secret_from_file(env_name: str) -> str | None:
    path = os.environ.get(env_name)
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file: {exc.strerror}", Location(path)) from exc


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation problems into a :class:`ConfigError`."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting: {first['msg']}", Location(field=field)) from exc
    smtp_password = _secret_from_file("TOCSIN_SMTP__PASSWORD_FILE")
    if smtp_password is not None:
        settings.smtp.password = SecretStr(smtp_password)
    return settings


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    return load_settings()
