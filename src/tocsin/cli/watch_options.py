"""What the ``tocsin watch`` command modules share: options, progress, the update table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tocsin.cli.output import OutputFormat, emit
from tocsin.cli.state import STATE
from tocsin.watch.bulletin import Lang as BulletinLang
from tocsin.watch.bulletin import Period
from tocsin.watch.service import FeedDocuments, UpdateReport
from tocsin.watch.sources.base import Document

MAX_REASONS_SHOWN = 10


class Lang(StrEnum):
    FR = "fr"
    EN = "en"


FeedOption = Annotated[
    list[str] | None, typer.Option("--feed", help="Only this feed (repeat for several).")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", envvar="TOCSIN_FORMAT")]
EstablishmentsOption = Annotated[
    list[str] | None,
    typer.Option("--establishment", "-e", help="Only this establishment (repeat; default: all)."),
]
PeriodOption = Annotated[
    Period | None,
    typer.Option("--period", help="daily: 24 hours; weekly: 7 days (default: notify.period)."),
]
LangOption = Annotated[
    Lang | None,
    typer.Option("--lang", help="Bulletin language (default: notify.lang, else language)."),
]


def bulletin_lang(lang: Lang | None) -> BulletinLang:
    chosen = lang or STATE.settings.notify.lang or STATE.settings.language
    return "en" if chosen == "en" else "fr"


def progress(out: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} documents"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


def counted(feeds: Iterable[FeedDocuments], bar: Progress) -> Iterator[FeedDocuments]:
    """The feeds, with their documents counted on the progress bar as they are read."""
    task = bar.add_task("feeds", total=None)

    def counting(name: str, documents: Iterable[Document]) -> Iterator[Document]:
        for done, document in enumerate(documents, start=1):
            bar.update(task, description=name, completed=done)
            yield document

    for feed in feeds:
        bar.update(task, description=feed.name, completed=0)
        yield replace(feed, documents=counting(feed.name, feed.documents))


def _load_rows(report: UpdateReport) -> Iterator[dict[str, object]]:
    for load in report.feeds:
        reasons = Counter(skip.reason for skip in load.skipped)
        yield {
            "feed": load.feed,
            "kind": load.kind,
            **load.counts(),
            "skips": dict(reasons.most_common()),
            "error": load.error,
        }


_LOAD_COLUMNS: tuple[str, ...] = ("feed", "kind", "documents", "inserted", "updated", "older")
_LOAD_COLUMNS += ("enrichments", "skipped", "error")


def print_update(report: UpdateReport, fmt: OutputFormat, out: Console) -> None:
    emit(_load_rows(report), fmt, _LOAD_COLUMNS, title="Feeds", wrapper="feeds")
    if fmt is not OutputFormat.TABLE:
        return
    for load in report.feeds:
        reasons = Counter(skip.reason for skip in load.skipped)
        for reason, count in reasons.most_common(MAX_REASONS_SHOWN):
            out.print(f"  {load.feed}: {count} × {reason}", markup=False, highlight=False)
