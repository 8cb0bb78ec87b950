"""An alert of the register as the CAP 1.2 message Stadtkern emits (validated by to_xml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from stadtkern.warning.alert_input import LANGUAGES
from stadtkern.warning.cap import CapAlert, CapArea, CapInfo, CapReference, CapResource, to_xml
from stadtkern.warning.cap_model import Category, Certainty, MsgType, Severity, Status, Urgency
from stadtkern.warning.cap_text import format_cap_time, parse_cap_time
from stadtkern.warning.models import Alert

CAP_LANGUAGE = {"de": "de-DE", "en": "en-US"}
SIGNAL_PARAMETER = "stadtkern:signal"


def reference_to(alert: Alert) -> dict[str, str]:
    """How a later message names this one (CAP references: sender, identifier, sent)."""
    sent = alert.sent_at or alert.created_at
    return {"sender": alert.sender, "identifier": alert.identifier, "sent": format_cap_time(sent)}


def _text(content: dict[str, Any], name: str, language: str) -> str | None:
    texts = content.get(name)
    if not isinstance(texts, dict):
        return None
    value = texts.get(language)
    return value if isinstance(value, str) else None


def _areas(content: dict[str, Any]) -> tuple[CapArea, ...]:
    return tuple(
        CapArea(
            description=area["areaDesc"],
            polygons=tuple(area.get("polygons", ())),
            circles=tuple(area.get("circles", ())),
            geocodes=tuple((name, value) for name, value in area.get("geocodes", ())),
        )
        for area in content.get("capAreas", ())
    )


def cap_alert(alert: Alert, sent: datetime) -> CapAlert:
    """The alert as a CAP 1.2 message (one info block per language)."""
    content = alert.content
    references: tuple[CapReference, ...] = ()
    ref = content.get("references")
    if isinstance(ref, dict) and alert.msg_type != "Alert":
        references = (
            CapReference(
                sender=ref["sender"], identifier=ref["identifier"], sent=parse_cap_time(ref["sent"])
            ),
        )
    audio = content.get("audio")
    resources = (
        (CapResource(description="Durchsage", mime_type="audio/mpeg", uri=audio["url"]),)
        if isinstance(audio, dict)
        else ()
    )
    areas = _areas(content)
    infos = tuple(
        CapInfo(
            language=CAP_LANGUAGE[language],
            categories=(cast(Category, content.get("category", "Safety")),),
            event=str(content["event"]),
            response_types=("AllClear",) if alert.signal == "all_clear" else (),
            urgency=cast(Urgency, content.get("urgency", "Immediate")),
            severity=cast(Severity, content.get("severity", "Severe")),
            certainty=cast(Certainty, content.get("certainty", "Observed")),
            expires=alert.expires_at,
            sender_name=content.get("senderName"),
            headline=headline,
            description=_text(content, "description", language),
            instruction=_text(content, "instruction", language),
            parameters=((SIGNAL_PARAMETER, alert.signal),),
            resources=resources,
            areas=areas,
        )
        for language in LANGUAGES
        if (headline := _text(content, "headline", language))
    )
    return CapAlert(
        identifier=alert.identifier,
        sender=alert.sender,
        sent=sent,
        status=cast(Status, alert.status),
        msg_type=cast(MsgType, alert.msg_type),
        scope="Public",
        references=references,
        infos=infos,
    )


def cap_message(alert: Alert, sent: datetime) -> bytes:
    """The CAP XML of the alert; refuses (CapInvalid) anything the OASIS schema rejects."""
    return to_xml(cap_alert(alert, sent))
