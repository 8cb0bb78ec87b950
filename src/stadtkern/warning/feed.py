"""Public warning feeds of a town: Atom 1.0 (RFC 4287) and JSON Feed 1.1, one entry per alert.

Both feeds only point at and summarise the CAP messages; the CAP XML behind each entry's
link (`alternate_url_of(alert)`, media type application/cap+xml) is the authoritative text.
They are public by definition, so alerts whose scope is not Public, and Drafts, are left
out here whatever the caller passes (Exercise and Test messages stay in: their status says
what they are). Entries keep the order given; the entry id is the CAP message's URL.
The JSON feed is described in `stadtkern.warning.feed_json`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from lxml import etree

from stadtkern.warning.cap_model import CAP_MEDIA_TYPE, CapAlert
from stadtkern.warning.feed_entries import FEED_LANGUAGE, entry_title, feed_time, public_alerts
from stadtkern.warning.feed_json import json_feed

__all__ = [
    "ATOM_MEDIA_TYPE",
    "ATOM_NAMESPACE",
    "FEED_LANGUAGE",
    "atom_feed",
    "entry_title",
    "json_feed",
]

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def atom_feed(
    alerts: Sequence[CapAlert],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url_of: Callable[[CapAlert], str],
    updated: datetime,
    author: str | None = None,
) -> bytes:
    """An Atom 1.0 feed (UTF-8, xml:lang de) with one entry per public alert, linking its CAP."""
    feed = etree.Element(_atom("feed"), nsmap={None: ATOM_NAMESPACE})
    feed.set(_XML_LANG, FEED_LANGUAGE)
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    _add(feed, "updated", feed_time(updated))
    _link(feed, rel="self", href=self_url, media_type=ATOM_MEDIA_TYPE)
    _add(_element(feed, "author"), "name", author or title)
    _add(feed, "generator", "Stadtkern")
    for alert in public_alerts(alerts):
        _write_entry(_element(feed, "entry"), alert, alternate_url_of(alert))
    return _DECLARATION + etree.tostring(feed, encoding="UTF-8", pretty_print=True)


def _write_entry(entry: etree._Element, alert: CapAlert, cap_url: str) -> None:
    info = alert.info_for(FEED_LANGUAGE)
    title = entry_title(alert)
    _add(entry, "id", cap_url)
    _add(entry, "title", title)
    _add(entry, "updated", feed_time(alert.sent))
    _add(entry, "published", feed_time(alert.sent))
    name = (info.sender_name if info else None) or alert.sender
    _add(_element(entry, "author"), "name", name)
    _link(entry, rel="alternate", href=cap_url, media_type=CAP_MEDIA_TYPE)
    for category in info.categories if info else ():
        _element(entry, "category").set("term", category)
    summary = _add(entry, "summary", (info.headline if info else None) or title)
    if info is not None:
        summary.set(_XML_LANG, info.language)


def _atom(name: str) -> str:
    return f"{{{ATOM_NAMESPACE}}}{name}"


def _element(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, _atom(name))


def _add(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = _element(parent, name)
    element.text = text
    return element


def _link(parent: etree._Element, *, rel: str, href: str, media_type: str) -> None:
    link = _element(parent, "link")
    link.set("rel", rel)
    link.set("type", media_type)
    link.set("href", href)
