"""Typed model of an OASIS CAP 1.2 alert message: frozen dataclasses, one per CAP element.

Field names follow CAP in snake case (`msgType` -> `msg_type`, `senderName` -> `sender_name`).
Repeated CAP elements are tuples; pairs of `valueName`/`value` are `(value_name, value)` tuples.
Times are timezone-aware datetimes; CAP carries whole seconds only, so fractions are dropped
when a message is written. Enumerations are `Literal` types holding the standard's value sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"

Status = Literal["Actual", "Exercise", "System", "Test", "Draft"]
MsgType = Literal["Alert", "Update", "Cancel", "Ack", "Error"]
Scope = Literal["Public", "Restricted", "Private"]
Category = Literal[
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
]
ResponseType = Literal[
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

STATUSES: tuple[Status, ...] = get_args(Status)
MSG_TYPES: tuple[MsgType, ...] = get_args(MsgType)
SCOPES: tuple[Scope, ...] = get_args(Scope)
CATEGORIES: tuple[Category, ...] = get_args(Category)
RESPONSE_TYPES: tuple[ResponseType, ...] = get_args(ResponseType)
URGENCIES: tuple[Urgency, ...] = get_args(Urgency)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
CERTAINTIES: tuple[Certainty, ...] = get_args(Certainty)

# Message types that act on earlier messages named in <references> (CAP 1.2, msgType).
REFERRING_MSG_TYPES: frozenset[MsgType] = frozenset({"Update", "Cancel", "Ack", "Error"})

ValuePair = tuple[str, str]
"""A CAP `valueName`/`value` pair, e.g. `("ARS", "073120000000")`."""


class CapInvalid(ValueError):
    """A CAP message that is not valid CAP 1.2 or breaks a rule of the standard.

    `errors` holds one readable message per problem; XSD problems carry their line number.
    """

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors) or ["invalid CAP message"]
        shown = "; ".join(self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"invalid CAP 1.2 message: {shown}{more}")


@dataclass(frozen=True, kw_only=True, slots=True)
class CapReference:
    """One earlier message an Update, Cancel, Ack or Error refers to."""

    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CapResource:
    """A file that adds to an info block: an image, an audio message, a map (CAP <resource>)."""

    description: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CapArea:
    """Where an info block applies (CAP <area>).

    `polygons` are CAP strings `"lat,lon lat,lon ..."` (closed, at least four points),
    `circles` are `"lat,lon radius_km"`; `altitude` and `ceiling` are in feet as in CAP.
    """

    description: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()
    geocodes: tuple[ValuePair, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CapInfo:
    """The text of an alert in one language with its area (CAP <info>)."""

    language: str = "en-US"
    categories: tuple[Category, ...]
    event: str
    response_types: tuple[ResponseType, ...] = ()
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    audience: str | None = None
    event_codes: tuple[ValuePair, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[ValuePair, ...] = ()
    resources: tuple[CapResource, ...] = ()
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class CapAlert:
    """A CAP 1.2 alert message (CAP <alert>).

    `addresses` and `incidents` are CAP group lists, one entry per address or incident
    (the XML quotes entries that contain spaces). `references` name earlier messages.
    """

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[CapReference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[CapInfo, ...] = ()

    def info_for(self, language: str) -> CapInfo | None:
        """The first info in `language` ("de" matches "de-DE"), else the first info, else None."""
        wanted = language.lower()
        primary = wanted.split("-")[0]
        exact = [info for info in self.infos if info.language.lower() == wanted]
        close = [info for info in self.infos if info.language.lower().split("-")[0] == primary]
        found = exact or close or list(self.infos)
        return found[0] if found else None
