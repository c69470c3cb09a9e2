"""Keep the message catalogues in step with the templates and code (no babel.cfg needed).

Run ``python -m tocsin.web.catalog`` after changing a visible string: it extracts the
English message ids from ``web/templates/**.html`` and ``web/**.py`` and merges them into
``locale/<lang>/LC_MESSAGES/messages.po``, keeping existing translations and dropping the
ids no longer used. Then fill the new French ``msgstr`` entries.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from tocsin import __version__
from tocsin.web.i18n import DOMAIN, LANGUAGES, catalogue_path

WEB_DIR = Path(__file__).parent
METHOD_MAP = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
# The same settings as the environment in render.py, so extracted ids match rendered ones.
OPTIONS_MAP = {
    "templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "newstyle_gettext": "true",
        "trimmed": "true",
        "silent": "false",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}


def extract_catalog(root: Path = WEB_DIR) -> Catalog:
    """Every message id used by the dashboard, with where it is used."""
    catalog = Catalog(project="Tocsin", version=__version__, domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        root, METHOD_MAP, OPTIONS_MAP, keywords=DEFAULT_KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(
            message, locations=[(filename, lineno)], auto_comments=comments, context=context
        )
    return catalog


def _read(language: str) -> Catalog:
    path = catalogue_path(language)
    if path.is_file():
        with path.open("rb") as handle:
            return read_po(handle, locale=language, domain=DOMAIN)
    return Catalog(locale=language, domain=DOMAIN, fuzzy=False)


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def update_catalogues(template: Catalog | None = None) -> list[Path]:
    """Merge the extracted ids into each language's .po file; returns the files written."""
    template = template or extract_catalog()
    written: list[Path] = []
    for language in LANGUAGES:
        catalog = _read(language)
        created, before = catalog.creation_date, _ids(catalog)
        catalog.update(template, no_fuzzy_matching=True)
        if _ids(catalog) == before:
            catalog.creation_date = created  # no new ids: keep the file byte-for-byte stable
        catalog.project, catalog.version = "Tocsin", __version__
        catalog.copyright_holder = "The Tocsin developers"
        catalog.last_translator = catalog.language_team = "The Tocsin developers"
        catalog.msgid_bugs_address = "The Tocsin developers"
        path = catalogue_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, ignore_obsolete=True, include_lineno=False, width=100)
        written.append(path)
    return written


if __name__ == "__main__":
    update_catalogues()
