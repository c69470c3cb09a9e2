"""An Atom 1.0 feed (RFC 4287) of a bulletin's new exposures, one entry per advisory group.

Pure: :func:`atom_feed` turns a :class:`~tocsin.watch.bulletin.Bulletin` and the dashboard's
base URL into XML text. Serving it behind authentication is the web layer's job. Entry ids
are stable tag URIs (establishment, advisory, its oldest exposure id), so a feed reader shows an
advisory once even when the feed is read several times a day.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.etree import ElementTree as ET

from tocsin.watch.bulletin import Bulletin, BulletinGroup, label

__all__ = ["ATOM_NS", "atom_feed"]

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _summary(bulletin: Bulletin, group: BulletinGroup) -> str:
    lang = bulletin.lang
    sep = " :" if lang == "fr" else ":"
    assets = ", ".join(f"{a.key}{f' ({a.name})' if a.name else ''}" for a in group.assets)
    todo = (
        label(lang, "todo.fixed", v=group.fixed_version)
        if group.fixed_version
        else label(lang, "todo.vendor")
    )
    lines = [
        f"{label(lang, 'decision')}{sep} {label(lang, f'decision.{group.decision.value}')}"
        f" ({label(lang, 'score')} {group.score}/100)",
        f"{label(lang, 'assets')}{sep} {assets}",
        f"{label(lang, 'todo')}{sep} {todo}",
    ]
    if group.due_date is not None:
        lines.append(f"{label(lang, 'due')}{sep} {group.due_date.isoformat()}")
    if group.reasons:
        reasons = " ; ".join(bulletin.reason_texts(group))
        lines.append(f"{label(lang, 'reasons')}{sep} {reasons}")
    return "\n".join(lines)


def atom_feed(bulletin: Bulletin, base_url: str) -> str:
    """The feed as XML text; links point into the dashboard at ``base_url``."""
    base = base_url.rstrip("/")
    ET.register_namespace("", ATOM_NS)
    slug = quote(bulletin.establishment, safe="")
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {_XML_LANG: bulletin.lang})
    _sub(feed, "id", f"{base}/watch/{slug}/feed.atom")
    _sub(feed, "title", bulletin.title)
    _sub(feed, "updated", bulletin.generated_at.isoformat())
    _sub(feed, "link", rel="self", href=f"{base}/watch/{slug}/feed.atom")
    _sub(feed, "link", rel="alternate", href=f"{base}/watch/exposures?establishment={slug}")
    author = _sub(feed, "author")
    _sub(author, "name", "Tocsin")
    _sub(feed, "generator", "Tocsin")
    for group in bulletin.new:
        first = min(
            (a.exposure_id for a in group.assets), default=0
        )  # the oldest exposure of the group
        entry = _sub(feed, "entry")
        _sub(
            entry,
            "id",
            f"tag:tocsin,2025:{slug}/{quote(group.advisory, safe='')}/{first}",
        )
        title = f"[{label(bulletin.lang, f'decision.{group.decision.value}')}] {group.advisory}"
        _sub(entry, "title", f"{title} — {group.title}" if group.title else title)
        _sub(entry, "updated", bulletin.generated_at.isoformat())
        _sub(entry, "link", rel="alternate", href=f"{base}/watch/exposures/{first}")
        for link in group.links:
            _sub(entry, "link", rel="related", href=link)
        _sub(entry, "category", term=group.decision.value)
        _sub(entry, "summary", _summary(bulletin, group), type="text")
    body = ET.tostring(feed, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'
