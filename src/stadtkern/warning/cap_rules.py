"""Rules of CAP 1.2 that its XML schema cannot express, checked on every message in and out.

The XSD checks structure and value sets; the standard's text adds more: identifiers without
spaces or commas, references for messages that act on earlier ones, a restriction for
Restricted and addresses for Private messages, closed polygons in WGS 84, circles with a
radius >= 0, a ceiling only above an altitude, and (Stadtkern's own) times with a time zone
and an info that expires after the message was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from stadtkern.warning.cap_geo import cap_circle, cap_polygon
from stadtkern.warning.cap_model import REFERRING_MSG_TYPES, CapAlert, CapArea, CapInfo, CapInvalid
from stadtkern.warning.cap_text import format_group, format_reference, token_problem

_T = TypeVar("_T")


def alert_problems(alert: CapAlert) -> list[str]:
    """Every rule the alert breaks, as readable messages; empty when the alert is fine."""
    problems = [
        problem
        for problem in (
            token_problem(alert.identifier, "identifier"),
            token_problem(alert.sender, "sender"),
            _time_problem(alert.sent, "sent"),
        )
        if problem
    ]
    if alert.msg_type in REFERRING_MSG_TYPES and not alert.references:
        problems.append(f"msgType {alert.msg_type} must name the earlier messages in references")
    for index, reference in enumerate(alert.references):
        problems += _invalid(format_reference, reference, f"references[{index}]")
    if alert.scope == "Restricted" and not alert.restriction:
        problems.append("a Restricted message needs a restriction")
    if alert.scope == "Private" and not alert.addresses:
        problems.append("a Private message needs addresses")
    problems += _invalid(format_group, alert.addresses, "addresses")
    problems += _invalid(format_group, alert.incidents, "incidents")
    for index, info in enumerate(alert.infos):
        problems += _info_problems(info, alert.sent, f"info[{index}] ({info.language})")
    return problems


def check_alert(alert: CapAlert) -> None:
    """Raise CapInvalid listing every rule the alert breaks."""
    problems = alert_problems(alert)
    if problems:
        raise CapInvalid(problems)


def _info_problems(info: CapInfo, sent: datetime, where: str) -> list[str]:
    problems: list[str] = []
    if not info.categories:
        problems.append(f"{where}: at least one category is required")
    if not info.event.strip():
        problems.append(f"{where}: event is empty")
    times = {"effective": info.effective, "onset": info.onset, "expires": info.expires}
    for name, moment in times.items():
        problem = _time_problem(moment, f"{where}: {name}") if moment else None
        if problem:
            problems.append(problem)
    if problems:
        return problems
    if info.expires and _aware(sent) and info.expires <= sent:
        problems.append(f"{where}: expires must be after sent")
    for name in ("effective", "onset"):
        moment = times[name]
        if moment and info.expires and moment > info.expires:
            problems.append(f"{where}: {name} is after expires")
    for index, resource in enumerate(info.resources):
        if not resource.description.strip() or not resource.mime_type.strip():
            problems.append(f"{where} resource[{index}]: description and mimeType are required")
        if resource.size is not None and resource.size < 0:
            problems.append(f"{where} resource[{index}]: size is negative")
    for index, area in enumerate(info.areas):
        problems += _area_problems(area, f"{where} area[{index}]")
    return problems


def _area_problems(area: CapArea, where: str) -> list[str]:
    problems: list[str] = []
    if not area.description.strip():
        problems.append(f"{where}: areaDesc is empty")
    for index, polygon in enumerate(area.polygons):
        problems += _invalid(cap_polygon, polygon, f"{where} polygon[{index}]")
    for index, circle in enumerate(area.circles):
        problems += _invalid(cap_circle, circle, f"{where} circle[{index}]")
    if area.ceiling is not None:
        if area.altitude is None:
            problems.append(f"{where}: ceiling needs an altitude")
        elif area.ceiling < area.altitude:
            problems.append(f"{where}: ceiling is below altitude")
    return problems


def _invalid(check: Callable[[_T], object], value: _T, where: str) -> list[str]:
    try:
        check(value)
    except CapInvalid as exc:
        return [f"{where}: {error}" for error in exc.errors]
    return []


def _aware(moment: datetime) -> bool:
    return moment.utcoffset() is not None


def _time_problem(moment: datetime, name: str) -> str | None:
    return None if _aware(moment) else f"{name} has no time zone"
