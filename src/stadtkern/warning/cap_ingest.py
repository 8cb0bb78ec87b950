"""A CAP 1.2 message from outside (for example MoWaS via the federal interface) as an alert.

The message has been validated against the OASIS schema already. Its German info block (or
the first) gives event and texts, an English block adds the English texts. Areas become an
area of polygons, circles and geocodes; an Update or Cancel must refer to an alert of this
town. The signal comes from the parameter `stadtkern:signal`, else from the response type
AllClear, else it is the warning signal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput
from stadtkern.warning.alert_input import AlertInput
from stadtkern.warning.alerts import get_alert
from stadtkern.warning.cap import CapAlert, CapInfo
from stadtkern.warning.cap_bridge import SIGNAL_PARAMETER
from stadtkern.warning.cap_geo import cap_circle

MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 5, 1440, 60


def _texts(german: CapInfo, english: CapInfo | None, name: str) -> dict[str, str] | None:
    de = getattr(german, name)
    if not de:
        return None
    en = getattr(english, name) if english is not None else None
    return {"de": de, "en": en} if en else {"de": de}


def _area(infos: tuple[CapInfo, ...]) -> dict[str, Any]:
    polygons: list[str] = []
    circles: list[dict[str, float]] = []
    geocodes: list[dict[str, str]] = []
    for area in infos[0].areas:
        polygons += area.polygons
        for circle in area.circles:
            lon, lat, radius = cap_circle(circle)
            circles.append({"lat": lat, "lon": lon, "radiusKm": radius})
        geocodes += [{"valueName": name, "value": value} for name, value in area.geocodes]
    return {"polygons": polygons, "circles": circles, "geocodes": geocodes}


def _signal(info: CapInfo) -> str:
    for name, value in info.parameters:
        if name == SIGNAL_PARAMETER:
            return value
    return "all_clear" if "AllClear" in info.response_types else "warning"


def input_from_cap(
    session: Session, tenant: TenantRef, message: CapAlert, now: datetime
) -> AlertInput:
    """The alert the message asks for (InvalidInput when Stadtkern cannot act on it)."""
    if message.msg_type not in ("Alert", "Update", "Cancel"):
        raise InvalidInput(f"a CAP {message.msg_type} is not an alert Stadtkern can send")
    german = message.info_for("de")
    if german is None:
        raise InvalidInput("the CAP message has no info block")
    english = next((i for i in message.infos if i.language.lower().startswith("en")), None)
    if not german.areas:
        raise InvalidInput("the CAP message has no area: whom should the lanterns warn?")
    references = None
    if message.msg_type != "Alert":
        ours = [ref for ref in message.references if ref.sender == message.sender]
        for reference in ours or message.references:
            references = get_alert(session, tenant, reference.identifier).identifier
            break
    minutes = DEFAULT_MINUTES
    if german.expires is not None:
        minutes = int((german.expires - now).total_seconds() // 60)
        if minutes < MIN_MINUTES:
            raise InvalidInput("the CAP message expires too soon (or has expired)")
        minutes = min(minutes, MAX_MINUTES)
    body: dict[str, Any] = {
        "status": message.status,
        "msgType": message.msg_type,
        "references": references,
        "event": german.event,
        "category": german.categories[0],
        "urgency": german.urgency,
        "severity": german.severity,
        "certainty": german.certainty,
        "senderName": german.sender_name,
        "headline": _texts(german, english, "headline") or {"de": german.event},
        "description": _texts(german, english, "description"),
        "instruction": _texts(german, english, "instruction"),
        "area": _area((german,)),
        "signal": _signal(german),
        "expiresInMinutes": minutes,
    }
    try:
        return AlertInput.model_validate(body)
    except ValueError as error:
        raise InvalidInput(f"the CAP message cannot become an alert: {error}") from error
