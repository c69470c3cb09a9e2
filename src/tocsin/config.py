"""Configuration from ``TOCSIN_*`` environment variables and an optional TOML file.

Precedence, highest first: environment variables, the TOML file named by
``TOCSIN_CONFIG`` (or ``$TOCSIN_HOME/tocsin.toml`` when it exists), then defaults.
Secrets (SMTP password, web secret key, webhook URLs) may also be read from a file named by
``TOCSIN_<NAME>_FILE``, so that they never appear in a process listing.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import tomllib
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
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


WebhookModeName = Literal["json", "text", "teams", "mattermost"]
PeriodName = Literal["daily", "weekly"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    *("monday", "tuesday", "wednesday", "thursday"),
    *("friday", "saturday", "sunday"),
)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MAX_WEBHOOKS = 20


def read_webhook_file(path: Path) -> list[SecretStr]:
    """Webhook URLs from a file: one a line; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read webhook file {path}: {exc.strerror}") from exc
    urls = [line.strip() for line in text.splitlines()]
    return [SecretStr(url) for url in urls if url and not url.startswith("#")]


def _check_webhook(url: SecretStr) -> SecretStr:
    # The message never repeats the URL: it may carry a token.
    value = url.get_secret_value()
    if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
        raise ValueError("a webhook URL must start with https:// (or http://) and have no spaces")
    return url


class NotifyTarget(BaseModel):
    """Who receives one establishment's bulletins, and how (global settings + overrides)."""

    model_config = ConfigDict(frozen=True)

    recipients: tuple[str, ...] = ()
    webhooks: tuple[SecretStr, ...] = ()
    webhook_mode: WebhookModeName = "json"
    lang: Language | None = None
    period: PeriodName = "daily"


class EstablishmentNotifySettings(BaseModel):
    """``[notify.establishments.<slug>]``: what differs for one establishment.

    A key left out keeps the global value; ``to = []`` or ``webhooks = []`` sends nothing
    through that channel for this establishment.
    """

    model_config = ConfigDict(extra="forbid")

    to: list[str] | None = None
    webhooks: list[SecretStr] | None = None
    webhooks_file: Path | None = None
    webhook_mode: WebhookModeName | None = None
    lang: Language | None = None
    period: PeriodName | None = None

    @field_validator("webhooks")
    @classmethod
    def _webhooks(cls, value: list[SecretStr] | None) -> list[SecretStr] | None:
        return None if value is None else [_check_webhook(url) for url in value]

    @model_validator(mode="after")
    def _read_file(self) -> EstablishmentNotifySettings:
        if self.webhooks_file is not None:
            extra = [_check_webhook(url) for url in read_webhook_file(self.webhooks_file)]
            self.webhooks = [*(self.webhooks or []), *extra]
        return self


class NotifySettings(BaseModel):
    """``[notify]``: where bulletins go (``tocsin watch run --notify`` and the scheduler)."""

    model_config = ConfigDict(extra="forbid")

    to: list[str] = Field(default_factory=list)
    webhooks: list[SecretStr] = Field(default_factory=list)
    webhooks_file: Path | None = None
    webhook_mode: WebhookModeName = "json"
    lang: Language | None = None  # None: the ``language`` setting
    period: PeriodName = "daily"
    establishments: dict[str, EstablishmentNotifySettings] = Field(default_factory=dict)

    @field_validator("webhooks")
    @classmethod
    def _webhooks(cls, value: list[SecretStr]) -> list[SecretStr]:
        return [_check_webhook(url) for url in value]

    @field_validator("establishments")
    @classmethod
    def _slugs(
        cls, value: dict[str, EstablishmentNotifySettings]
    ) -> dict[str, EstablishmentNotifySettings]:
        for slug in value:
            if not _SLUG.fullmatch(slug):
                raise ValueError(f"{slug!r} is not an establishment slug")
        return value

    @model_validator(mode="after")
    def _read_file(self) -> NotifySettings:
        if self.webhooks_file is not None:
            self.webhooks.extend(_check_webhook(u) for u in read_webhook_file(self.webhooks_file))
        if len(self.webhooks) > MAX_WEBHOOKS:
            raise ValueError(f"at most {MAX_WEBHOOKS} webhooks")
        return self

    def target(self, establishment: str) -> NotifyTarget:
        """The recipients, webhooks, mode, language and period of ``establishment``."""
        own = self.establishments.get(establishment) or EstablishmentNotifySettings()
        return NotifyTarget(
            recipients=tuple(self.to if own.to is None else own.to),
            webhooks=tuple(self.webhooks if own.webhooks is None else own.webhooks),
            webhook_mode=own.webhook_mode or self.webhook_mode,
            lang=own.lang or self.lang,
            period=own.period or self.period,
        )


class ScheduleSettings(BaseModel):
    """``[schedule]``: the watch cycle run by ``tocsin serve`` itself (off unless enabled)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    daily_at: time = time(6, 30)  # local time of the run, "HH:MM"
    timezone: str | None = None  # IANA name, e.g. "Europe/Paris"; None: the server's
    weekly_on: Weekday | None = "monday"  # also the weekly bulletin that day; None: never
    daily_bulletin: bool = True
    source: Literal["feeds", "mirror", "none"] = "feeds"
    mirror: Path | None = None  # the folder ``source = "mirror"`` reads
    notify: bool = True
    bulletins: Path | None = None  # default: $TOCSIN_HOME/bulletins
    catch_up_hours: float = Field(default=6.0, ge=0, le=24)
    lease_seconds: int = Field(default=600, ge=30, le=86400)

    @field_validator("daily_at", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", value.strip()):
            raise ValueError("daily_at must be a time of day such as 06:30")
        return value.strip() if isinstance(value, str) else value

    @field_validator("weekly_on", mode="before")
    @classmethod
    def _weekday(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            return None if value in ("", "none", "never") else value
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _mirror_named(self) -> ScheduleSettings:
        if self.source == "mirror" and self.mirror is None:
            raise ValueError('source = "mirror" needs mirror = "<folder>"')
        return self

    def zone(self) -> ZoneInfo | None:
        return None if self.timezone is None else ZoneInfo(self.timezone)


_MAX_REPORT_BYTES = 30 * 1024 * 1024  # what the store keeps (tocsin.store.phishing)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (where plain-text IMAP is allowed)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class PhishingMailboxSettings(BaseModel):
    """``[phishing.mailbox]``: the IMAP mailbox staff forward reports to (docs/phishing-mailbox.md).

    Reports are read in ``folder``, kept for ``establishment``, then moved to
    ``processed_folder`` (created when missing) and answered from ``reply_from`` (default:
    ``smtp.sender``). ``security = "none"`` (no TLS) is refused unless ``host`` is loopback.
    ``password_file`` is read once, at start, and wins over ``password``.
    """

    model_config = ConfigDict(extra="forbid")

    host: str | None = None  # None: no report mailbox
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    folder: str = Field(default="INBOX", min_length=1, max_length=200)
    processed_folder: str = Field(default="Tocsin/Traités", min_length=1, max_length=200)
    establishment: str | None = None
    max_message_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=_MAX_REPORT_BYTES)
    max_messages: int = Field(default=200, ge=1, le=10_000)  # read per run; the rest waits
    timeout: float = Field(default=60.0, gt=0, le=600)
    reply: bool = True
    reply_from: str | None = None

    @field_validator("folder", "processed_folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        if any(ord(c) < 0x20 or c in '"\\*%' for c in value):
            raise ValueError("a folder name has no control characters, quotes, \\, * or %")
        return value

    @field_validator("establishment")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.fullmatch(value):
            raise ValueError(f"{value!r} is not an establishment slug")
        return value

    @model_validator(mode="after")
    def _check(self) -> PhishingMailboxSettings:
        if self.security == "none" and self.host and not is_loopback_host(self.host):
            raise ValueError('security = "none" (no TLS) is only allowed for a loopback host')
        if self.password_file is not None:
            try:
                secret = self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"cannot read password_file: {exc.strerror}") from exc
            self.password = SecretStr(secret)
        return self


class PhishingSettings(BaseModel):
    """``[phishing]``: what the analysis knows about the establishment (docs/phishing.md).

    ``authserv_ids``: the authserv-id of the establishment's own mail gateways; only their
    Authentication-Results are trusted. ``own_domains``: its mail domains. ``executives``:
    display names of people and services staff trust. ``allow`` / ``block``: sender
    addresses or domains always legitimate / always phishing. ``mailbox``: where staff
    report (:class:`PhishingMailboxSettings`).
    """

    model_config = ConfigDict(extra="forbid")

    authserv_ids: list[str] = Field(default_factory=list)
    own_domains: list[str] = Field(default_factory=list)
    executives: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    block: list[str] = Field(default_factory=list)
    mailbox: PhishingMailboxSettings = Field(default_factory=PhishingMailboxSettings)
    # A classifier retrained with the analysts' verdicts (docs/phishing-classifier.md);
    # None: the model shipped with Tocsin.
    model: Path | None = None

    @field_validator("authserv_ids", "own_domains", "allow", "block")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [v.strip().lower() for v in values if v.strip()]


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
    notify: NotifySettings = Field(default_factory=NotifySettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    phishing: PhishingSettings = Field(default_factory=PhishingSettings)

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


def redact_url(url: str | SecretStr) -> str:
    """A webhook URL as it may be shown or logged: scheme and host only (``https://host/…``)."""
    value = url.get_secret_value() if isinstance(url, SecretStr) else url
    scheme, sep, rest = value.partition("://")
    if not sep:
        return "…"
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…"


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    return load_settings()
