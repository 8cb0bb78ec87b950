"""The public warning feed as JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with CAP facts.

Each item is a JSON Feed item (`id` and `url` are the CAP message's URL, `title`, `summary`
= headline, `content_text` = description, `date_published` = sent) plus the extension object
`_cap` (JSON Feed's rule for custom members) holding what apps need without reading XML:

    "_cap": {
      "identifier", "sender", "sent", "status", "msgType", "scope", "capUrl",
      "references": [{"sender", "identifier", "sent"}],
      "infos": [{"language", "event", "categories", "responseTypes", "urgency", "severity",
                 "certainty", "senderName", "headline", "description", "instruction",
                 "web", "contact", "effective", "onset", "expires",
                 "areas": [{"areaDesc", "geocodes": [{"valueName", "value"}],
                            "geometry": GeoJSON | null}]}],
      "geometry": GeoJSON | null
    }

CAP times keep CAP's form (`...+01:00`, UTC as `-00:00`). Area geometries are lon/lat GeoJSON
(RFC 7946): CAP polygons as Polygons, circles approximated by 64-sided Polygons (radius 0:
a Point). `_cap.geometry` is the union of all areas of all infos, for maps. Values absent
from the CAP message are null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from stadtkern.geo import geometry_to_geojson
from stadtkern.warning.cap_geo import area_geometry
from stadtkern.warning.cap_model import CapAlert, CapArea, CapInfo
from stadtkern.warning.cap_text import format_cap_time
from stadtkern.warning.feed_entries import FEED_LANGUAGE, entry_title, feed_time, public_alerts

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
JSON_FEED_MEDIA_TYPE = "application/feed+json"


def json_feed(
    alerts: Sequence[CapAlert],
    *,
    title: str,
    self_url: str,
    alternate_url_of: Callable[[CapAlert], str],
    home_page_url: str | None = None,
) -> dict[str, Any]:
    """A JSON Feed 1.1 document (German) with one item per public alert and its CAP facts."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "feed_url": self_url,
        "language": FEED_LANGUAGE,
        "items": [json_item(alert, alternate_url_of(alert)) for alert in public_alerts(alerts)],
    }
    if home_page_url:
        feed["home_page_url"] = home_page_url
    return feed


def json_item(alert: CapAlert, cap_url: str) -> dict[str, Any]:
    """One JSON Feed item for an alert whose CAP XML is served at `cap_url`."""
    info = alert.info_for(FEED_LANGUAGE)
    title = entry_title(alert)
    headline = (info.headline if info else None) or title
    shapes: list[BaseGeometry] = []
    infos = [_info(item, shapes) for item in alert.infos]
    geometry = shapely.unary_union(shapes) if shapes else None
    return {
        "id": cap_url,
        "url": cap_url,
        "title": title,
        "summary": headline,
        "content_text": (info.description if info else None) or headline,
        "date_published": feed_time(alert.sent),
        "language": info.language if info else FEED_LANGUAGE,
        "_cap": {
            "identifier": alert.identifier,
            "sender": alert.sender,
            "sent": format_cap_time(alert.sent),
            "status": alert.status,
            "msgType": alert.msg_type,
            "scope": alert.scope,
            "capUrl": cap_url,
            "references": [
                {
                    "sender": reference.sender,
                    "identifier": reference.identifier,
                    "sent": format_cap_time(reference.sent),
                }
                for reference in alert.references
            ],
            "infos": infos,
            "geometry": _geojson(geometry),
        },
    }


def _info(info: CapInfo, shapes: list[BaseGeometry]) -> dict[str, Any]:
    return {
        "language": info.language,
        "event": info.event,
        "categories": list(info.categories),
        "responseTypes": list(info.response_types),
        "urgency": info.urgency,
        "severity": info.severity,
        "certainty": info.certainty,
        "senderName": info.sender_name,
        "headline": info.headline,
        "description": info.description,
        "instruction": info.instruction,
        "web": info.web,
        "contact": info.contact,
        "effective": _time(info.effective),
        "onset": _time(info.onset),
        "expires": _time(info.expires),
        "areas": [_area(area, shapes) for area in info.areas],
    }


def _area(area: CapArea, shapes: list[BaseGeometry]) -> dict[str, Any]:
    geometry = area_geometry(area)
    if geometry is not None:
        shapes.append(geometry)
    return {
        "areaDesc": area.description,
        "geocodes": [{"valueName": name, "value": value} for name, value in area.geocodes],
        "geometry": _geojson(geometry),
    }


def _geojson(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    return None if geometry is None or geometry.is_empty else geometry_to_geojson(geometry)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_cap_time(moment)
