"""CAP 1.2 text formats: times, references, group lists and the words they are built from.

CAP times are `YYYY-MM-DDThh:mm:ss+hh:mm` in whole seconds; the standard forbids "Z" and
writes UTC as `-00:00` (CAP 1.2, 3.3.2), which is what Stadtkern emits; `+00:00` is read too.
References are `sender,identifier,sent` triples separated by spaces. Group lists
(addresses, incidents) are space separated, an entry containing spaces in double quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from stadtkern.warning.cap_model import CapInvalid, CapReference

_CAP_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")
_NOT_IN_TOKEN = re.compile(r"[\s,<&]")
_GROUP_ENTRY = re.compile(r'"([^"]*)"|([^\s"]+)')


def format_cap_time(moment: datetime) -> str:
    """Write an aware datetime as a CAP time: whole seconds, explicit offset, UTC as -00:00."""
    offset = moment.utcoffset()
    if offset is None:
        raise CapInvalid([f"time {moment.isoformat()} has no time zone"])
    if offset % timedelta(minutes=1):
        # CAP offsets have no seconds field (historic local mean times do).
        moment = moment.astimezone(UTC)
        offset = timedelta(0)
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if not offset else text


def parse_cap_time(text: str) -> datetime:
    """Read a CAP time (`2026-12-01T15:00:00+01:00`) into an aware datetime."""
    value = text.strip()
    if not _CAP_TIME.fullmatch(value):
        raise CapInvalid([f"{value!r} is not a CAP time (YYYY-MM-DDThh:mm:ss+hh:mm)"])
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise CapInvalid([f"{value!r} is not a valid time: {exc}"]) from None


def token_problem(value: str, what: str) -> str | None:
    """Why `value` cannot be a CAP identifier or sender (spaces, commas, < and &), or None."""
    if not value:
        return f"{what} is empty"
    if _NOT_IN_TOKEN.search(value):
        return f"{what} {value!r} contains a space, comma, '<' or '&', which CAP forbids"
    return None


def format_reference(reference: CapReference) -> str:
    """Write one reference as CAP's `sender,identifier,sent`."""
    problems = [
        problem
        for problem in (
            token_problem(reference.sender, "referenced sender"),
            token_problem(reference.identifier, "referenced identifier"),
        )
        if problem
    ]
    if problems:
        raise CapInvalid(problems)
    return f"{reference.sender},{reference.identifier},{format_cap_time(reference.sent)}"


def format_references(references: Iterable[CapReference]) -> str:
    """Write references as CAP's space-separated list of `sender,identifier,sent`."""
    return " ".join(format_reference(reference) for reference in references)


def parse_references(text: str) -> tuple[CapReference, ...]:
    """Read CAP's `<references>` text into references, in the order given."""
    references: list[CapReference] = []
    errors: list[str] = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            errors.append(f"reference {triple!r} is not 'sender,identifier,sent'")
            continue
        try:
            sent = parse_cap_time(parts[2])
        except CapInvalid as exc:
            errors.extend(f"reference {triple!r}: {error}" for error in exc.errors)
            continue
        references.append(CapReference(sender=parts[0], identifier=parts[1], sent=sent))
    if errors:
        raise CapInvalid(errors)
    return tuple(references)


def format_group(entries: Iterable[str]) -> str:
    """Write a CAP group list (addresses, incidents): entries with spaces in double quotes."""
    words: list[str] = []
    for entry in entries:
        if not entry.strip() or '"' in entry:
            raise CapInvalid([f"group entry {entry!r} is empty or contains a double quote"])
        words.append(f'"{entry}"' if any(char.isspace() for char in entry) else entry)
    return " ".join(words)


def parse_group(text: str) -> tuple[str, ...]:
    """Read a CAP group list into its entries."""
    return tuple(quoted or bare for quoted, bare in _GROUP_ENTRY.findall(text) if quoted or bare)
