"""The audit log: chaining, append-only triggers, tamper detection and concurrent appends."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from stadtkern.core import audit
from stadtkern.core.models import AuditEntry, AuditHead
from stadtkern.db import Database, migrations

BACKENDS = ("sqlite", "postgresql")
CHUNKS = (1, 2, 1000)


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, make_database: Callable[[str], Database]) -> Database:
    """A migrated database of its own, for tests that tamper with the log or count from 1."""
    database = make_database(request.param)
    migrations.upgrade(database)
    return database


@pytest.fixture
def chain(fresh: Database) -> list[AuditEntry]:
    """Five entries in a fresh database whose append-only triggers an attacker has dropped."""
    entries = append(fresh, 5)
    with fresh.write() as session:
        if fresh.backend == "postgresql":
            session.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
            session.execute(text("DROP TRIGGER audit_entry_no_delete"))
    return entries


def append(database: Database, count: int, *, tenant_slug: str | None = None) -> list[AuditEntry]:
    """Record `count` entries in one transaction."""
    with database.write() as session:
        return [
            audit.record(
                session,
                actor="alice",
                action="key.create",
                target=f"key:{number}",
                tenant_slug=tenant_slug,
                payload={"number": number},
            )
            for number in range(count)
        ]


def head(database: Database) -> tuple[int, str]:
    """The head row's seq and hash."""
    with database.read() as session:
        row = session.execute(select(AuditHead.seq, AuditHead.entry_hash)).one()
        return row.seq, row.entry_hash


def problems(
    database: Database, *, expected_head: tuple[int, str] | None = None
) -> list[tuple[str, int]]:
    """(kind, seq) of every problem; chunk boundaries must not change the verdict."""
    found = []
    for chunk in CHUNKS:
        with database.read() as session:
            report = audit.verify(session, chunk=chunk, expected_head=expected_head)
        found.append([(problem.kind, problem.seq) for problem in report.problems])
    assert found[1:] == found[:-1]
    return found[0]


def execute(database: Database, *statements: str) -> None:
    """Run SQL as an attacker with direct database access."""
    with database.write() as session:
        for statement in statements:
            session.execute(text(statement))


# --- the chain on the shared database ---------------------------------------------------------


def test_chain_links_entries_and_verifies(database: Database) -> None:
    before_seq, before_hash = head(database)
    entries = append(database, 4, tenant_slug="chain-test")
    assert [entry.seq for entry in entries] == list(range(before_seq + 1, before_seq + 5))
    assert entries[0].prev_hash == before_hash
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.entry_hash
    assert all(audit.chain_hash(entry) == entry.entry_hash for entry in entries)
    assert head(database) == (entries[-1].seq, entries[-1].entry_hash)
    with database.read() as session:
        report = audit.verify(session, chunk=3)
    assert report.ok, report.problems
    assert report.checked >= 4
    assert (report.head_seq, report.head_hash) == head(database)


def test_verify_accepts_an_earlier_recorded_head(database: Database) -> None:
    recorded = head(database)
    append(database, 2)
    with database.read() as session:
        assert audit.verify(session, expected_head=recorded).ok
        assert audit.verify(session, expected_head=(0, audit.GENESIS_HASH)).ok


def test_timestamps_are_stored_in_utc_with_microseconds(database: Database) -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    with database.write() as session:
        seq = audit.record(
            session, actor="alice", action="role.grant", target="p:1", occurred_at=moment
        ).seq
    with database.read() as session:
        stored = session.get_one(AuditEntry, seq)
        assert stored.occurred_at == moment
        assert stored.occurred_at.utcoffset() == timedelta(0)
        assert audit.chain_hash(stored) == stored.entry_hash


def test_record_rejects_values_a_backend_would_refuse(database: Database) -> None:
    before = head(database)
    naive = datetime(2026, 3, 1, 12, 0)  # noqa: DTZ001 - the naive value under test
    cases: list[dict[str, object]] = [
        {"occurred_at": naive},
        {"action": "x" * 65},
        {"actor": "nul\x00byte"},
        {"tenant_slug": "t" * 41},
        {"payload": {"ratio": float("nan")}},
    ]
    for case in cases:
        arguments: dict[str, object] = {"actor": "alice", "action": "key.create", "target": "k"}
        arguments.update(case)
        with pytest.raises(ValueError, match=r"."), database.write() as session:
            audit.record(session, **arguments)  # type: ignore[arg-type]
    assert head(database) == before


def test_append_only_triggers_reject_update_and_delete(database: Database) -> None:
    entry = append(database, 1)[0]
    with pytest.raises(DBAPIError, match="append-only"), database.write() as session:
        session.execute(
            text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = :seq"), {"seq": entry.seq}
        )
    with pytest.raises(DBAPIError, match="append-only"), database.write() as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = :seq"), {"seq": entry.seq})
    with database.read() as session:
        assert session.get_one(AuditEntry, entry.seq).actor == "alice"
        assert audit.verify(session).ok


def test_list_entries_newest_first_per_tenant(database: Database) -> None:
    mine, other = f"audit-{secrets.token_hex(4)}", f"audit-{secrets.token_hex(4)}"
    recorded = append(database, 5, tenant_slug=mine)
    foreign = append(database, 1, tenant_slug=other)[0]
    with database.read() as session:
        listed = audit.list_entries(session, tenant_slug=mine)
        assert [entry.seq for entry in listed] == [entry.seq for entry in reversed(recorded)]
        first = audit.list_entries(session, tenant_slug=mine, limit=2)
        second = audit.list_entries(session, tenant_slug=mine, limit=2, before_seq=first[-1].seq)
        assert [entry.seq for entry in first + second] == [entry.seq for entry in listed[:4]]
        everything = audit.list_entries(session, tenant_slug=None, limit=6)
        assert everything[0].seq == foreign.seq
        assert {entry.tenant_slug for entry in everything} == {mine, other}
        with pytest.raises(ValueError, match="limit"):
            audit.list_entries(session, tenant_slug=mine, limit=0)


# --- payload and hash encoding ----------------------------------------------------------------


def test_payload_digest_is_canonical_and_order_independent() -> None:
    one = {"b": 1, "a": {"y": 2, "x": [1, "ä"]}}
    two = {"a": {"x": [1, "ä"], "y": 2}, "b": 1}
    canonical = '{"a":{"x":[1,"ä"],"y":2},"b":1}'.encode()
    assert audit.payload_digest(one) == audit.payload_digest(two)
    assert audit.payload_digest(one) == hashlib.sha256(canonical).hexdigest()
    assert audit.payload_digest(None) == hashlib.sha256(b"{}").hexdigest()
    assert audit.payload_digest({}) == audit.payload_digest(None)


def test_payload_is_not_stored(database: Database) -> None:
    payload = {"password": "hunter2-not-for-the-log", "email": "erika@example.org"}
    with database.write() as session:
        entry = audit.record(
            session, actor="alice", action="login.failure", target="session", payload=payload
        )
    assert entry.payload_digest == audit.payload_digest(payload)
    with database.read() as session:
        columns = {
            column["name"] for column in inspect(session.connection()).get_columns("audit_entry")
        }
        row = session.execute(
            text("SELECT * FROM audit_entry WHERE seq = :seq"), {"seq": entry.seq}
        ).one()
    assert columns == {
        "seq",
        "occurred_at",
        "tenant_slug",
        "actor",
        "action",
        "target",
        "payload_digest",
        "prev_hash",
        "entry_hash",
    }
    stored = " ".join(str(value) for value in row)
    assert "hunter2" not in stored
    assert "erika" not in stored


def transient(**changes: object) -> AuditEntry:
    """An unsaved entry for hashing."""
    fields: dict[str, object] = {
        "seq": 7,
        "occurred_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "tenant_slug": "musterstadt",
        "actor": "alice",
        "action": "key.revoke",
        "target": "key:abc",
        "payload_digest": "d" * 64,
        "prev_hash": "e" * 64,
    }
    fields.update(changes)
    return AuditEntry(**fields)


def test_chain_hash_encoding_is_pinned() -> None:
    encoded = (
        '["stadtkern.audit.v1",7,"2026-01-02T03:04:05.000006+00:00","musterstadt",'
        f'"alice","key.revoke","key:abc","{"d" * 64}","{"e" * 64}"]'
    )
    assert audit.chain_hash(transient()) == hashlib.sha256(encoded.encode()).hexdigest()


def test_chain_hash_separates_fields() -> None:
    assert audit.chain_hash(transient(actor="a,b", action="c")) != audit.chain_hash(
        transient(actor="a", action="b,c")
    )
    assert audit.chain_hash(transient(actor='a","b')) != audit.chain_hash(
        transient(actor="a", action="b")
    )
    assert audit.chain_hash(transient(tenant_slug=None)) != audit.chain_hash(
        transient(tenant_slug="")
    )
    local = datetime(2026, 1, 2, 4, 4, 5, 6, tzinfo=timezone(timedelta(hours=1)))
    assert audit.chain_hash(transient(occurred_at=local)) == audit.chain_hash(transient())


# --- tampering by someone with DDL rights, each on a fresh database --------------------------


def test_untampered_fresh_chain_verifies(chain: list[AuditEntry], fresh: Database) -> None:
    assert problems(fresh) == []
    with fresh.read() as session:
        report = audit.verify(session)
    assert (report.checked, report.head_seq, report.head_hash) == (5, 5, chain[-1].entry_hash)


def test_changed_field_is_named(chain: list[AuditEntry], fresh: Database) -> None:
    execute(fresh, "UPDATE audit_entry SET actor = 'mallory' WHERE seq = 3")
    assert problems(fresh) == [("changed", 3)]


def test_changed_field_with_recomputed_hash_is_named(
    chain: list[AuditEntry], fresh: Database
) -> None:
    with fresh.write() as session:
        entry = session.get_one(AuditEntry, 3)
        entry.target = "key:innocent"
        entry.entry_hash = audit.chain_hash(entry)
    assert problems(fresh) == [("changed", 3)]


def test_deleted_middle_entry_is_named(chain: list[AuditEntry], fresh: Database) -> None:
    execute(fresh, "DELETE FROM audit_entry WHERE seq = 3")
    assert problems(fresh) == [("deleted", 3)]


def test_deleted_first_entries_are_named(chain: list[AuditEntry], fresh: Database) -> None:
    execute(fresh, "DELETE FROM audit_entry WHERE seq <= 2")
    assert problems(fresh) == [("deleted", 1)]


def test_swapped_entries_are_reordered(chain: list[AuditEntry], fresh: Database) -> None:
    execute(
        fresh,
        "UPDATE audit_entry SET seq = -2 WHERE seq = 2",
        "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE seq = -2",
    )
    assert problems(fresh) == [("reordered", 2), ("reordered", 3)]


def forged(*, seq: int, prev_hash: str) -> dict[str, object]:
    """The columns of a forged entry whose own hash and link are consistent."""
    entry = transient(seq=seq, prev_hash=prev_hash, actor="mallory", action="role.grant")
    entry.entry_hash = audit.chain_hash(entry)
    return {column.key: getattr(entry, column.key) for column in AuditEntry.__table__.c}


def test_forged_entry_beyond_the_head_is_inserted(chain: list[AuditEntry], fresh: Database) -> None:
    with fresh.write() as session:
        session.execute(insert(AuditEntry), [forged(seq=6, prev_hash=chain[-1].entry_hash)])
    assert problems(fresh) == [("inserted", 6)]


def test_forged_entry_with_a_duplicate_seq_is_inserted(
    chain: list[AuditEntry], fresh: Database
) -> None:
    # Without the primary key a second entry 3 can sit beside the real one.
    execute(
        fresh,
        "CREATE TABLE audit_copy AS SELECT * FROM audit_entry",
        "DROP TABLE audit_entry",
        "ALTER TABLE audit_copy RENAME TO audit_entry",
    )
    with fresh.write() as session:
        session.execute(insert(AuditEntry), [forged(seq=3, prev_hash=chain[1].entry_hash)])
    assert problems(fresh) == [("inserted", 3)]


def test_deleted_newest_entry_is_truncation(chain: list[AuditEntry], fresh: Database) -> None:
    execute(fresh, "DELETE FROM audit_entry WHERE seq = 5")
    assert problems(fresh) == [("truncated", 5)]


def test_truncation_with_rewound_head_needs_the_recorded_head(
    chain: list[AuditEntry], fresh: Database
) -> None:
    recorded = (5, chain[-1].entry_hash)
    execute(fresh, "DELETE FROM audit_entry WHERE seq = 5")
    with fresh.write() as session:
        session.get_one(AuditHead, 1).seq = 4
        session.get_one(AuditHead, 1).entry_hash = chain[3].entry_hash
    # Documented limit: a consistent rewrite of tail and head is invisible without an anchor.
    assert problems(fresh) == []
    assert problems(fresh, expected_head=recorded) == [("truncated", 5)]


def test_rewritten_tail_is_caught_by_the_recorded_head(
    chain: list[AuditEntry], fresh: Database
) -> None:
    with fresh.write() as session:
        prev_hash = chain[2].entry_hash
        for seq in (4, 5):
            entry = session.get_one(AuditEntry, seq)
            entry.actor = "mallory"
            entry.prev_hash = prev_hash
            entry.entry_hash = prev_hash = audit.chain_hash(entry)
        session.get_one(AuditHead, 1).entry_hash = prev_hash
    assert problems(fresh) == []
    assert problems(fresh, expected_head=(3, chain[2].entry_hash)) == []
    assert problems(fresh, expected_head=(5, chain[4].entry_hash)) == [("head_mismatch", 5)]


def test_tampered_head_is_named(chain: list[AuditEntry], fresh: Database) -> None:
    with fresh.write() as session:
        session.get_one(AuditHead, 1).entry_hash = "f" * 64
    assert problems(fresh) == [("head_mismatch", 5)]
    with fresh.write() as session:
        session.get_one(AuditHead, 1).seq = 7
        session.get_one(AuditHead, 1).entry_hash = chain[-1].entry_hash
    assert problems(fresh) == [("truncated", 6)]


def test_missing_head_is_named_and_stops_appends(chain: list[AuditEntry], fresh: Database) -> None:
    execute(fresh, "DELETE FROM audit_head")
    assert problems(fresh) == [("head_mismatch", 0)]
    with pytest.raises(RuntimeError, match="head"), fresh.write() as session:
        audit.record(session, actor="alice", action="key.create", target="k")


# --- concurrent appends -------------------------------------------------------------------------


def test_concurrent_appends_form_one_chain(fresh: Database) -> None:
    threads, appends = 4, 25
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(appends):
                with fresh.write() as session:
                    audit.record(
                        session, actor=f"writer-{number}", action="key.create", target=f"{index}"
                    )
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with fresh.read() as session:
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        report = audit.verify(session)
    assert seqs == list(range(1, threads * appends + 1))
    assert report.ok, report.problems
    assert report.head_seq == threads * appends
