"""The append-only, hash-chained audit log: record, verify and list security-relevant actions.

Every entry commits to its predecessor through ``prev_hash``, and the single ``audit_head`` row
commits to the newest entry, so rewriting, removing or adding entries breaks a link somewhere.
The chain is not keyed: whoever can write the tables and knows this module can recompute every
hash from the tampered entry onwards and rewind the head to match. Such a rewrite is only caught
against a head recorded outside the database (``verify(..., expected_head=(seq, hash))``), e.g.
one published or shipped to a log host at regular intervals.

Payloads are not stored, only the SHA-256 of their canonical JSON, so secrets and personal data
never enter the log; a caller who still has a payload can check it with ``payload_digest``.
A digest of low-entropy data (a single e-mail address) can be brute-forced, so such values do
not belong in a payload either.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from sqlalchemy import String, func, select, update
from sqlalchemy.orm import Session

from stadtkern.core.models import AuditEntry, AuditHead
from stadtkern.db.base import utcnow

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "chain_hash",
    "list_entries",
    "payload_digest",
    "record",
    "verify",
]

GENESIS_HASH = "0" * 64
HASH_SCHEME = "stadtkern.audit.v1"
HEAD_ID = 1
MAX_LIST_LIMIT = 1000
# How many seqs on either side verify looks at to place a moved entry; a floor independent of
# `chunk` so that the verdict does not depend on the chunk size.
REORDER_WINDOW = 100

ProblemKind = Literal["changed", "deleted", "inserted", "reordered", "truncated", "head_mismatch"]


class ChainedFields(Protocol):
    """The fields an entry's hash covers."""

    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def tenant_slug(self) -> str | None: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def payload_digest(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One place where the stored chain differs from what was recorded."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of walking the chain up to the head."""

    checked: int
    problems: list[AuditProblem]
    head_seq: int
    head_hash: str

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def payload_digest(payload: Mapping[str, object] | None) -> str:
    """SHA-256 hex of the payload's canonical JSON (sorted keys, compact, UTF-8; '{}' for None)."""
    canonical = json.dumps(
        {} if payload is None else payload,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_hash(entry: ChainedFields) -> str:
    """SHA-256 hex of an entry's fields, encoded as one JSON array so that no two tuples collide."""
    # JSON strings are quoted and escaped, and null differs from "", so the encoding is
    # injective; the scheme tag lets a later encoding coexist with this one.
    encoded = json.dumps(
        [
            HASH_SCHEME,
            entry.seq,
            _utc_iso(entry.occurred_at),
            entry.tenant_slug,
            entry.actor,
            entry.action,
            entry.target,
            entry.payload_digest,
            entry.prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    tenant_slug: str | None = None,
    payload: Mapping[str, object] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the chain within the caller's transaction."""
    for name, value in (
        ("actor", actor),
        ("action", action),
        ("target", target),
        ("tenant_slug", tenant_slug),
    ):
        _check_text(name, value)
    when = utcnow() if occurred_at is None else occurred_at
    if when.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    # The head's row lock orders concurrent appends on PostgreSQL and is held until the caller
    # commits, so record late in a transaction. SQLite ignores FOR UPDATE: its writer is serial.
    head = session.execute(
        select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("the audit head row is missing; are the core migrations applied?")
    entry = AuditEntry(
        seq=head.seq + 1,
        occurred_at=when.astimezone(UTC),
        tenant_slug=tenant_slug,
        actor=actor,
        action=action,
        target=target,
        payload_digest=payload_digest(payload),
        prev_hash=head.entry_hash,
    )
    entry.entry_hash = chain_hash(entry)
    session.add(entry)
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=entry.seq, entry_hash=entry.entry_hash)
    )
    session.flush()
    return entry


def list_entries(
    session: Session, *, tenant_slug: str | None, limit: int = 100, before_seq: int | None = None
) -> list[AuditEntry]:
    """One tenant's entries, or every entry for None, newest first, paged by ``before_seq``."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    # tenant_slug has no default on purpose: a tenant route that forgot it would otherwise
    # show a municipality every other municipality's log.
    statement = select(AuditEntry)
    if tenant_slug is not None:
        statement = statement.where(AuditEntry.tenant_slug == tenant_slug)
    if before_seq is not None:
        statement = statement.where(AuditEntry.seq < before_seq)
    return list(session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(limit)))


def verify(
    session: Session, *, chunk: int = 1000, expected_head: tuple[int, str] | None = None
) -> AuditReport:
    """Walk the chain in seq order, ``chunk`` entries at a time, and report every problem.

    Entries up to the head as read at the start are checked; the kinds mean:

    - ``changed``: the entry's fields no longer give its stored hash, or they do but the next
      entry (entry s+1 whose own hash holds) links to a different hash, i.e. the entry was
      rewritten and its hash recomputed. Also: entry 1 does not start from the genesis hash.
    - ``reordered``: the entry does not hash at its seq but does at the seq that an intact
      neighbour (found by hash among the ``max(chunk, REORDER_WINDOW)`` seqs on either side),
      the genesis or the head places it at; swapping two entries reports both. Entries moved
      further, or whose neighbours moved too, are reported as ``changed``.
    - ``deleted``: no entry has seq s although a later entry exists; a run of missing seqs is
      one problem at its first seq.
    - ``inserted``: an entry the chain does not run through: a second entry with an existing
      seq (the one the chain keeps is the intact one that entry s+1 links to), a seq below 1,
      or a seq beyond even the head as re-read after the walk (appends made while verify runs
      are legitimate and are left to the next run).
    - ``truncated``: the chain ends before the head's seq (the newest entries were deleted),
      or before the seq of ``expected_head``; reported at the first missing seq.
    - ``head_mismatch``: the newest entry is intact but the head names another hash, the
      head row is missing, or the entry at ``expected_head``'s seq has a different hash.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    head = session.execute(
        select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == HEAD_ID)
    ).one_or_none()
    walk: _ChainWalk
    if head is None:
        newest = session.scalar(select(func.max(AuditEntry.seq))) or 0
        walk = _ChainWalk(head_seq=newest, head_hash=None, expected_head=expected_head)
        walk.report(0, "head_mismatch", "the audit head row is missing")
    else:
        walk = _ChainWalk(head_seq=head.seq, head_hash=head.entry_hash, expected_head=expected_head)
    groups = _grouped(_chunks(session, chunk=chunk, after=None, upto=walk.head_seq))
    for group, following, window in _neighbourhoods(groups, width=max(chunk, REORDER_WINDOW)):
        walk.visit(group, following, window)
    walk.finish()
    if head is not None:
        walk.problems.extend(_unaccounted(session, chunk=chunk, after=walk.head_seq))
    return AuditReport(
        checked=walk.checked,
        problems=walk.problems,
        head_seq=walk.head_seq,
        head_hash=walk.head_hash or "",
    )


@dataclass(frozen=True, slots=True)
class _Stored:
    """An entry as stored, detached from any session so that verify sees the database."""

    seq: int
    occurred_at: datetime
    tenant_slug: str | None
    actor: str
    action: str
    target: str
    payload_digest: str
    prev_hash: str
    entry_hash: str
    intact: bool


class _Window:
    """Intact entries near the walk's position, indexed by their hash and by their link."""

    def __init__(self) -> None:
        self.seq_of_hash: dict[str, int] = {}
        self.seq_linking_to: dict[str, int] = {}

    def add(self, group: list[_Stored]) -> None:
        for entry in (entry for entry in group if entry.intact):
            self.seq_of_hash[entry.entry_hash] = entry.seq
            self.seq_linking_to[entry.prev_hash] = entry.seq

    def drop(self, group: list[_Stored]) -> None:
        for entry in (entry for entry in group if entry.intact):
            if self.seq_of_hash.get(entry.entry_hash) == entry.seq:
                del self.seq_of_hash[entry.entry_hash]
            if self.seq_linking_to.get(entry.prev_hash) == entry.seq:
                del self.seq_linking_to[entry.prev_hash]


class _ChainWalk:
    """The state of one verify run while it walks the groups of entries in seq order."""

    def __init__(
        self, *, head_seq: int, head_hash: str | None, expected_head: tuple[int, str] | None
    ) -> None:
        self.head_seq = head_seq
        self.head_hash = head_hash
        self.expected_head = expected_head
        self.problems: list[AuditProblem] = []
        self.checked = 0
        self.next_seq = 1
        self.last_hash = GENESIS_HASH

    def report(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self.problems.append(AuditProblem(seq=seq, kind=kind, detail=detail))

    def visit(self, group: list[_Stored], following: list[_Stored], window: _Window) -> None:
        seq = group[0].seq
        self.checked += len(group)
        if seq < 1:
            for _ in group:
                self.report(seq, "inserted", f"entry with seq {seq}; the chain starts at 1")
            return
        if seq > self.next_seq:
            self._report_missing("deleted", seq - 1, f"entry {seq} exists")
        links_back = self.last_hash if seq == self.next_seq else None
        successors = [entry for entry in following if entry.seq == seq + 1 and entry.intact]
        member = max(
            group,
            key=lambda entry: (
                entry.intact,
                any(successor.prev_hash == entry.entry_hash for successor in successors),
                entry.prev_hash == links_back,
            ),
        )
        for _ in range(len(group) - 1):
            self.report(seq, "inserted", f"a second entry with seq {seq} outside the chain")
        self._check_member(member, successors, window)
        anchor = self.expected_head
        if anchor is not None and anchor[0] == seq and anchor[1] != member.entry_hash:
            self.report(seq, "head_mismatch", f"entry {seq} differs from the recorded head")
        self.next_seq = seq + 1
        self.last_hash = member.entry_hash

    def finish(self) -> None:
        if self.next_seq <= self.head_seq:
            self._report_missing("truncated", self.head_seq, f"the head names seq {self.head_seq}")
        if self.expected_head is None:
            return
        anchor_seq, anchor_hash = self.expected_head
        if anchor_seq == 0 and anchor_hash != GENESIS_HASH:
            self.report(0, "head_mismatch", "the recorded head is not the genesis")
        elif anchor_seq > self.head_seq:
            self.report(
                self.head_seq + 1,
                "truncated",
                f"the recorded head names seq {anchor_seq}, the head only {self.head_seq}",
            )

    def _check_member(self, member: _Stored, successors: list[_Stored], window: _Window) -> None:
        seq = member.seq
        if not member.intact:
            placed = _placed_at(member, window, head_seq=self.head_seq, head_hash=self.head_hash)
            if placed is not None and placed != seq:
                self.report(seq, "reordered", f"entry {seq} hashes as seq {placed}")
            else:
                self.report(seq, "changed", f"entry {seq} does not match its hash")
            return
        if seq == 1 and member.prev_hash != GENESIS_HASH:
            self.report(seq, "changed", "entry 1 does not start from the genesis hash")
        if seq == self.head_seq:
            if self.head_hash is not None and member.entry_hash != self.head_hash:
                self.report(seq, "head_mismatch", f"the head names another hash than entry {seq}")
        elif successors and all(succ.prev_hash != member.entry_hash for succ in successors):
            self.report(seq, "changed", f"entry {seq + 1} links to another hash than entry {seq}")

    def _report_missing(self, kind: ProblemKind, last_missing: int, reason: str) -> None:
        first = self.next_seq
        missing = f"entry {first}" if first == last_missing else f"entries {first}..{last_missing}"
        self.report(first, kind, f"{missing} missing although {reason}")


def _placed_at(
    entry: _Stored, window: _Window, *, head_seq: int, head_hash: str | None
) -> int | None:
    """The seq at which an entry that fails at its own seq hashes, if a neighbour names one."""
    candidates: list[int] = []
    if entry.prev_hash == GENESIS_HASH:
        candidates.append(1)
    if (before := window.seq_of_hash.get(entry.prev_hash)) is not None:
        candidates.append(before + 1)
    if (after := window.seq_linking_to.get(entry.entry_hash)) is not None:
        candidates.append(after - 1)
    if entry.entry_hash == head_hash:
        candidates.append(head_seq)
    for seq in candidates:
        if seq != entry.seq and chain_hash(replace(entry, seq=seq)) == entry.entry_hash:
            return seq
    return None


_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.occurred_at,
    AuditEntry.tenant_slug,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.payload_digest,
    AuditEntry.prev_hash,
    AuditEntry.entry_hash,
)


def _chunks(
    session: Session, *, chunk: int, after: int | None, upto: int | None
) -> Iterator[list[_Stored]]:
    """Stored entries in seq order, about ``chunk`` at a time, never splitting one seq."""
    while True:
        bounds = []
        if after is not None:
            bounds.append(AuditEntry.seq > after)
        if upto is not None:
            bounds.append(AuditEntry.seq <= upto)
        # Cutting at a seq rather than a row count keeps duplicate seqs (possible only once
        # the primary key is dropped) together, so a chunk boundary cannot hide one.
        cut = session.scalar(
            select(AuditEntry.seq)
            .where(*bounds)
            .order_by(AuditEntry.seq)
            .offset(chunk - 1)
            .limit(1)
        )
        statement = select(*_COLUMNS).where(*bounds)
        if cut is not None:
            statement = statement.where(AuditEntry.seq <= cut)
        rows = session.execute(statement.order_by(AuditEntry.seq, AuditEntry.entry_hash)).all()
        if not rows:
            return
        stored = [_Stored(*row, intact=False) for row in rows]
        yield [replace(entry, intact=chain_hash(entry) == entry.entry_hash) for entry in stored]
        if cut is None:
            return
        after = cut


def _grouped(chunks: Iterator[list[_Stored]]) -> Iterator[list[_Stored]]:
    """Entries grouped by seq; a group has more than one entry only if seq was duplicated."""
    for rows in chunks:
        for _, group in itertools.groupby(rows, key=lambda entry: entry.seq):
            yield list(group)


def _neighbourhoods(
    groups: Iterator[list[_Stored]], *, width: int
) -> Iterator[tuple[list[_Stored], list[_Stored], _Window]]:
    """Each group with the group after it and a window of up to ``width`` groups either side."""
    buffered: deque[list[_Stored]] = deque()
    window = _Window()
    position = 0
    exhausted = False
    while True:
        while not exhausted and len(buffered) - position <= width:
            group = next(groups, None)
            if group is None:
                exhausted = True
            else:
                buffered.append(group)
                window.add(group)
        if position >= len(buffered):
            return
        following = buffered[position + 1] if position + 1 < len(buffered) else []
        yield buffered[position], following, window
        position += 1
        if position > width:
            window.drop(buffered.popleft())
            position -= 1


def _unaccounted(session: Session, *, chunk: int, after: int) -> Iterator[AuditProblem]:
    """Entries beyond the head that no append accounts for."""
    for rows in _chunks(session, chunk=chunk, after=after, upto=None):
        # Re-read after fetching: an append that committed before this chunk was read has
        # moved the head past its entry by now, so only forged entries remain beyond it.
        head_seq = session.scalar(select(AuditHead.seq).where(AuditHead.id == HEAD_ID)) or 0
        for entry in (entry for entry in rows if entry.seq > head_seq):
            yield AuditProblem(
                seq=entry.seq,
                kind="inserted",
                detail=f"entry {entry.seq} lies beyond the head (seq {head_seq})",
            )


def _check_text(name: str, value: str | None) -> None:
    """Reject values one backend would store and the other refuse, so both behave alike."""
    if value is None:
        if name != "tenant_slug":
            raise ValueError(f"{name} is required")
        return
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    column_type = AuditEntry.__table__.c[name].type
    if isinstance(column_type, String) and column_type.length and len(value) > column_type.length:
        raise ValueError(f"{name} is longer than {column_type.length} characters")


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
