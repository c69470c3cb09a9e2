"""What every command shares: settings and the database, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass, field

from tocsin.config import Settings, load_settings
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.store.db import Database, open_database


@dataclass
class State:
    debug: bool = False
    _settings: Settings | None = None
    _database: Database | None = None
    _aliases: AliasTable | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def database(self) -> Database:
        """The application database, migrated to the current schema on first use."""
        if self._database is None:
            self.settings.home.mkdir(parents=True, exist_ok=True)
            self._database = open_database(self.settings.effective_database_url)
        return self._database

    @property
    def aliases(self) -> AliasTable:
        if self._aliases is None:
            self._aliases = load_aliases(self.settings.aliases_file)
        return self._aliases

    def reset(self) -> None:
        """Forget settings and connections (each ``main()`` call starts afresh)."""
        self.close()
        self._settings = None
        self._aliases = None
        self.debug = False

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


STATE = State()
