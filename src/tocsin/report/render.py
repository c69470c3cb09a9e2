"""Rendering a :class:`~tocsin.watch.bulletin.Bulletin` as HTML, Markdown, JSON or PDF.

Every format renders the same document. The HTML is self-contained (inline CSS, the chart as
inline SVG, no script and nothing remote) so that it can be mailed, archived and printed as
is; the PDF is that HTML through WeasyPrint, an optional dependency (``tocsin[pdf]``).
"""

from __future__ import annotations

import importlib
import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from tocsin.errors import UsageError
from tocsin.model.finding import Decision
from tocsin.report.charts import COLOURS, chart_description, open_exposures_chart
from tocsin.watch.bulletin import Bulletin, bulletin_document, label

__all__ = ["BulletinFormat", "render_bulletin", "render_html", "render_markdown", "render_pdf"]


class BulletinFormat(StrEnum):
    HTML = "html"
    MD = "md"
    JSON = "json"
    PDF = "pdf"

    @property
    def suffix(self) -> str:
        return f".{self.value}"


def _environment(autoescape: bool) -> Environment:
    # The Markdown template escapes with its own ``md`` filter; HTML escaping would be wrong.
    env = Environment(
        loader=PackageLoader("tocsin.report", "templates"),
        autoescape=autoescape,  # noqa: S701 - off only for Markdown, escaped by ``md``
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _md_escape(value: object) -> str:
    """Text safe inside a Markdown table cell or a line."""
    text = str(value)
    for char in ("\\", "|", "*", "_", "`", "[", "]", "<", ">"):
        text = text.replace(char, f"\\{char}")
    return " ".join(text.split())


_HTML = _environment(autoescape=True)
_TEXT = _environment(autoescape=False)
_TEXT.filters["md"] = _md_escape


def _context(bulletin: Bulletin) -> dict[str, Any]:
    lang = bulletin.lang

    def t(key: str, **values: str) -> str:
        return label(lang, key, **values)

    def day(value: date | datetime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            return value.strftime("%d/%m/%Y %H:%M UTC" if lang == "fr" else "%Y-%m-%d %H:%M UTC")
        return value.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")

    return {
        "b": bulletin,
        "t": t,
        "sep": " :" if lang == "fr" else ":",
        "day": day,
        "decisions": list(Decision),
        "colours": {d.value: c for d, c in COLOURS.items()},
        "chart": open_exposures_chart(bulletin.history, lang, described_by="chart-summary"),
        "chart_summary": chart_description(bulletin.history, lang),
    }


def render_html(bulletin: Bulletin) -> str:
    return _HTML.get_template("bulletin.html.j2").render(_context(bulletin))


def render_markdown(bulletin: Bulletin) -> str:
    return _TEXT.get_template("bulletin.md.j2").render(_context(bulletin))


def render_json(bulletin: Bulletin) -> str:
    return json.dumps(bulletin_document(bulletin), ensure_ascii=False, indent=1) + "\n"


def render_pdf(bulletin: Bulletin) -> bytes:
    """The HTML bulletin as PDF; UsageError when WeasyPrint is not installed."""
    try:
        weasyprint = importlib.import_module("weasyprint")
    except ImportError:
        raise UsageError(
            "PDF bulletins need WeasyPrint: install tocsin[pdf] (pip install 'tocsin[pdf]')"
        ) from None
    pdf: bytes = weasyprint.HTML(string=render_html(bulletin)).write_pdf()
    return pdf


def render_bulletin(bulletin: Bulletin, fmt: BulletinFormat | str) -> bytes:
    """The bulletin in ``fmt``, as bytes (UTF-8 for the text formats)."""
    chosen = BulletinFormat(fmt)
    if chosen is BulletinFormat.PDF:
        return render_pdf(bulletin)
    if chosen is BulletinFormat.HTML:
        return render_html(bulletin).encode("utf-8")
    if chosen is BulletinFormat.MD:
        return render_markdown(bulletin).encode("utf-8")
    return render_json(bulletin).encode("utf-8")
