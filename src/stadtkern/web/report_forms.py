"""The citizen's defect form: its fields to a `ReportDraft`, and a service's refusal back to the
field it concerns, said in the visitor's language.

The rules (location, lengths, attributes, photos, rate limit) live in the Mängelmelder's
services; this module only translates between the form and them, so the page can point at the
field that needs another look (`aria-describedby`) instead of showing one line for all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.datastructures import FormData, ImmutableMultiDict

from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, PayloadTooLarge, StadtkernError, TooManyRequests
from stadtkern.maengelmelder import catalogue
from stadtkern.maengelmelder.reports import ReportDraft
from stadtkern.web.i18n import translations

HONEYPOT = "homepage"  # the module's honeypot field (open311_post.HONEYPOT): people leave it empty
TEXT_FIELDS = ("service_code", "lat", "long", "address_string", "description", "email",
               "first_name", "last_name")  # fmt: skip
TEXT_LIMIT = 20_000  # the services refuse long texts with their own limits; this caps memory
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,64})\](\[\])?$")
_ATTRIBUTE_PROBLEM = re.compile(r"^attribute\[([^\]]{1,64})\]")


@dataclass(frozen=True)
class Problem:
    """What is wrong, and the id of the form field it concerns ("" for the whole form)."""

    field: str
    message: str


def form_values(form: FormData | ImmutableMultiDict[str, Any]) -> dict[str, str]:
    """The form's text fields, cut to a sane length (files and unknown fields left out)."""
    return {
        name: str(value)[:TEXT_LIMIT]
        for name in (*TEXT_FIELDS, HONEYPOT)
        if isinstance(value := form.get(name), str)
    }


def answers_of(form: FormData | ImmutableMultiDict[str, Any]) -> dict[str, str | list[str]]:
    """The answers to the category's questions (`attribute[code]`, lists as `attribute[code][]`)."""
    answers: dict[str, str | list[str]] = {}
    for key, value in form.multi_items():
        match = _ATTRIBUTE.match(key)
        if match is None or not isinstance(value, str):
            continue
        code = match.group(1)
        if match.group(2):
            previous = answers.get(code, [])
            answers[code] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            answers[code] = value[:TEXT_LIMIT]
    return answers


def coordinate(values: Mapping[str, str], name: str) -> float | None:
    """A latitude or longitude typed in German or English (a decimal comma is fine)."""
    text = values.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number") from None


def draft_of(
    values: Mapping[str, str], answers: dict[str, str | list[str]], client: str
) -> ReportDraft:
    """The report the form describes, from the portal (`source` "web")."""
    return ReportDraft(
        service_code=values.get("service_code", "").strip(),
        description=values.get("description", ""),
        lat=coordinate(values, "lat"),
        lon=coordinate(values, "long"),
        address=values.get("address_string", ""),
        answers=answers,
        email=values.get("email", ""),
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        source="web",
        client=client,
    )


def local_times(session: Session, tenant: TenantRef, draft: ReportDraft) -> None:
    """A browser's date-time field has no offset; the citizen means the town's local time."""
    try:
        category = catalogue.get_category(session=session, tenant=tenant, code=draft.service_code)
    except StadtkernError:
        return  # submit_report names the unknown category
    zone = ZoneInfo(tenant.timezone)
    for spec in category.attributes:
        value = draft.answers.get(spec["code"])
        if spec["datatype"] != "datetime" or not isinstance(value, str) or not value:
            continue
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            continue  # submit_report says what is wrong with it
        if moment.tzinfo is None:
            draft.answers[spec["code"]] = moment.replace(tzinfo=zone).isoformat()


def problem_of(error: StadtkernError, language: str, *, photo_bytes: int) -> Problem:
    """The refusal of a service as a problem of one field, in the visitor's language."""
    _ = translations(language).gettext
    detail = error.detail
    if isinstance(error, PayloadTooLarge):
        size = f"{photo_bytes / 1_000_000:g}"
        return Problem("photo", _("The photo is larger than %(size)s MB.") % {"size": size})
    if isinstance(error, TooManyRequests):
        return Problem("", _("Too many reports from your connection. Please try again later."))
    if detail.startswith(("media", "the photo")):
        return Problem("photo", _("This file is not a photo we can read (JPEG, PNG or WebP)."))
    if detail.startswith(("a location", "lat and long")):
        return Problem(
            "location",
            _("Please give the place: click the map, type an address or enter coordinates."),
        )
    if detail.startswith(("lat", "long")):
        field = "long" if detail.startswith("long") else "lat"
        return Problem(field, _("Please enter a number of degrees, for example 49.4447."))
    if detail.startswith("service_code"):
        return Problem("service_code", _("Please choose one of the categories."))
    if detail.startswith("description"):
        return Problem("description", _("The description is too long."))
    if detail.startswith("email"):
        return Problem("email", _("This is not an e-mail address."))
    if detail.startswith(("first_name", "last_name", "address_string")):
        return Problem(detail.split(" ")[0], _("This is too long."))
    found = _ATTRIBUTE_PROBLEM.match(detail)
    if found is not None:
        field = f"attribute-{found.group(1)}"
        if detail.endswith("is required"):
            return Problem(field, _("Please answer this question."))
        return Problem(field, _("This answer does not fit the question."))
    if detail == "the request was refused":
        return Problem("", _("The report was refused."))
    return Problem("", detail)
