"""An Atom feed of the reports in an area, for neighbourhood councils and local news."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from stadtkern.maengelmelder.reports import ReportView

ATOM = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"


def reports_feed(
    views: list[ReportView],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    link_of: str,
    updated: datetime,
) -> bytes:
    """Atom 1.0: one entry per report, newest first; `link_of` has `{id}` for the request."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    _text(feed, "updated", max((v.report.updated_at for v in views), default=updated).isoformat())
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", title)
    for view in views:
        report = view.report
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"{feed_id}#{report.id}")
        where = f" - {report.address}" if report.address else ""
        _text(entry, "title", f"{view.service_name}{where} ({report.detailed_status})")
        _text(entry, "updated", report.updated_at.isoformat())
        _text(entry, "published", report.requested_at.isoformat())
        etree.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", href=link_of.format(id=report.id)
        )
        etree.SubElement(entry, f"{{{ATOM}}}category", term=view.service_code)
        summary = report.description or view.service_name
        if report.status_notes:
            summary += f"\n\n{report.status_notes}"
        _text(entry, "summary", summary)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, f"{{{ATOM}}}{name}").text = value
