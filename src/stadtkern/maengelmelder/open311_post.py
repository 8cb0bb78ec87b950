"""POST requests: the form of a new service request turned into a draft, a photo and a key
check, then stored in one transaction (a refused request stores nothing, photo included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from stadtkern.core.authn import Credentials
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.errors import Forbidden, InvalidInput, Unauthenticated
from stadtkern.maengelmelder import DEFECT_ADMIN, HANDLER, OPEN311_CLIENT
from stadtkern.maengelmelder.limits import PostLimiter
from stadtkern.maengelmelder.photos import CleanPhoto, clean_photo, store_photo
from stadtkern.maengelmelder.reports import ReportDraft, submit_report
from stadtkern.maengelmelder.settings import MaengelmelderSettings

if TYPE_CHECKING:
    from stadtkern.platform import Platform

HONEYPOT = "homepage"  # left empty by people; bots fill every field
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,64})\](\[\])?$")
_TEXT_FIELDS = (
    "service_code", "address_string", "address_id", "zipcode", "description", "media_url",
    "email", "first_name", "last_name", "phone", "device_id", "account_id",
)  # fmt: skip


@dataclass(frozen=True)
class Accepted:
    """What POST requests answers: the new id and its token."""

    service_request_id: int
    token: str


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    if len(value) > 20_000:
        raise InvalidInput(f"{name} is too long")
    return value


def _answers(form: FormData) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {}
    for key, value in form.multi_items():
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{key} must be text")
        code, many = match.group(1), match.group(2)
        if many:
            previous = answers.get(code, [])
            answers[code] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            answers[code] = value
    return answers


def _float(form: FormData, name: str) -> float | None:
    text = _text(form, name).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number") from None


def draft_of(form: FormData, client: str) -> ReportDraft:
    """The draft a form describes (InvalidInput for a missing service_code or bad numbers)."""
    text = {name: _text(form, name) for name in _TEXT_FIELDS}
    if not text["service_code"].strip():
        raise InvalidInput("service_code is required")
    return ReportDraft(
        service_code=text["service_code"].strip(),
        description=text["description"],
        lat=_float(form, "lat"),
        lon=_float(form, "long"),
        address=text["address_string"],
        address_id=text["address_id"],
        zipcode=text["zipcode"],
        answers=_answers(form),
        media_url=text["media_url"],
        email=text["email"],
        first_name=text["first_name"],
        last_name=text["last_name"],
        phone=text["phone"],
        device_id=text["device_id"],
        account_id=text["account_id"],
        source="open311",
        client=client,
    )


def _caller(platform: Platform, tenant: TenantRef, api_key: str, address: str) -> Identity:
    try:
        identity = platform.authenticator.identify(
            Credentials(client=address, bearer=api_key), tenant
        )
    except Unauthenticated:
        raise Forbidden("invalid api_key received; cannot create the request") from None
    if identity is None or not (identity.platform_admin or identity.tenant_id == tenant.id):
        raise Forbidden("invalid api_key received; cannot create the request")
    if not (
        identity.has_role(OPEN311_CLIENT)
        or identity.has_role(HANDLER)
        or identity.has_role(DEFECT_ADMIN)
    ):
        raise Forbidden(f"the api_key lacks the role '{OPEN311_CLIENT}'")
    return identity


async def accept_request(
    request: Request,
    *,
    platform: Platform,
    tenant: TenantRef,
    settings: MaengelmelderSettings,
    limiter: PostLimiter,
) -> Accepted:
    """Check and store one POSTed service request."""
    form = await request.form(
        max_files=1, max_fields=200, max_part_size=settings.max_photo_bytes + 1
    )
    try:
        return await _accept(request, form, platform, tenant, settings, limiter)
    finally:
        await form.close()


async def _accept(
    request: Request,
    form: FormData,
    platform: Platform,
    tenant: TenantRef,
    settings: MaengelmelderSettings,
    limiter: PostLimiter,
) -> Accepted:
    address = request.client.host if request.client else "unknown"
    api_key = _text(form, "api_key").strip()
    client = f"address:{address}"
    if api_key or settings.require_api_key:
        if not api_key:
            raise Forbidden("an api_key is required to create requests")
        identity = await to_thread.run_sync(_caller, platform, tenant, api_key, address)
        client = identity.actor
    limiter.take(client)
    if _text(form, HONEYPOT):
        raise InvalidInput("the request was refused")
    draft = draft_of(form, client)
    photo = await _photo(form.get("media"), settings)
    return await to_thread.run_sync(_store, platform, tenant, draft, photo, settings)


async def _photo(upload: Any, settings: MaengelmelderSettings) -> CleanPhoto | None:
    if upload is None or upload == "":
        return None
    if not isinstance(upload, UploadFile):
        raise InvalidInput("media must be a file upload (multipart/form-data)")
    data = await upload.read(settings.max_photo_bytes + 1)
    if not data:
        return None
    return await to_thread.run_sync(
        lambda: clean_photo(
            data, max_bytes=settings.max_photo_bytes, max_side=settings.photo_max_pixels
        )
    )


def _store(
    platform: Platform,
    tenant: TenantRef,
    draft: ReportDraft,
    photo: CleanPhoto | None,
    settings: MaengelmelderSettings,
) -> Accepted:
    with platform.database.write() as session:
        photo_id = None
        if photo is not None:
            photo_id = store_photo(session=session, tenant=tenant, photo=photo).id
        report = submit_report(
            session=session,
            tenant=tenant,
            draft=draft,
            max_description=settings.max_description_chars,
            photo_id=photo_id,
        )
        return Accepted(report.id, report.token)
