"""The statements of the idempotency records, compiled once per dialect, and the form a
record keeps an answer in."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from backsmith.http.response import Response
from backsmith.storage.idempotency_table import IDEMPOTENCY_TABLE

if TYPE_CHECKING:
    from backsmith.storage.statements import Connection

RUNNING, DONE = "running", "done"
REPLAYED = (b"idempotent-replayed", b"true")  # the header of an answer sent again


def lock_of(caller: str, key: str) -> int:
    """The key's advisory lock: 64 bits of its digest, as PostgreSQL's signed bigint."""
    digest = hashlib.sha256(f"backsmith-idempotency\0{caller}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claimed() -> dict[str, Any]:
    """A running record's values, named by its columns."""
    return {
        "caller": sa.bindparam("caller"),
        "key": sa.bindparam("key"),
        "fingerprint": sa.bindparam("fingerprint"),
        "state": RUNNING,
        "lease": sa.bindparam("lease"),
        "locked_until": sa.bindparam("until"),
        "created_at": sa.bindparam("now"),
    }


def _answer() -> dict[str, Any]:
    return {
        "status": sa.bindparam("status"),
        "head": sa.bindparam("head"),
        "body": sa.bindparam("body"),
    }


class RecordStatements:
    """The records' statements, compiled once per dialect."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        c = table.c
        self._mine = (c.caller == sa.bindparam("caller"), c.key == sa.bindparam("key"))

    def claim(self, conn: Connection) -> Any:
        """Claim a new key, committed on its own: its key back, or no row if it is taken."""

        def build() -> Any:
            from sqlalchemy.dialects import postgresql, sqlite

            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            statement = insert(self.table).values(_claimed()).on_conflict_do_nothing()
            return statement.returning(self.table.c.key)

        return conn.compiled((IDEMPOTENCY_TABLE, "claim"), build)

    def claim_locked(self, conn: Connection) -> Any:
        """PostgreSQL: claim a key inside the request's transaction, never waiting on another.

        `got`: whether this transaction took the key's advisory lock, which another request
        with the key holds until its transaction ends (so it is still running). `claimed`:
        whether the running record was inserted; if not, a record already stands (the
        unique index is checked against what is committed, not a snapshot).
        """

        def build() -> Any:
            from sqlalchemy.dialects import postgresql

            lock = sa.func.pg_try_advisory_xact_lock(sa.bindparam("lock", type_=sa.BigInteger))
            got = sa.select(lock.label("got")).cte("got")
            values = _claimed()
            chosen = sa.select(*(sa.cast(v, self.table.c[k].type) for k, v in values.items()))
            insert = postgresql.insert(self.table).from_select(
                list(values), chosen.where(got.c.got)
            )
            claimed = insert.on_conflict_do_nothing().returning(self.table.c.key).cte("claimed")
            inserted = sa.select(sa.func.count()).select_from(claimed).scalar_subquery()
            return sa.select(got.c.got, inserted.label("claimed"))

        return conn.compiled((IDEMPOTENCY_TABLE, "claim_locked"), build)

    def keep(self, conn: Connection) -> Any:
        """PostgreSQL: store an answer whose work was undone (a refusal), on its own."""

        def build() -> Any:
            from sqlalchemy.dialects import postgresql

            values = {**_claimed(), "state": DONE, **_answer()}
            return postgresql.insert(self.table).values(values).on_conflict_do_nothing()

        return conn.compiled((IDEMPOTENCY_TABLE, "keep"), build)

    def read(self, conn: Connection) -> Any:
        return conn.compiled(
            (IDEMPOTENCY_TABLE, "read"), lambda: sa.select(self.table).where(*self._mine)
        )

    def forget(self, conn: Connection) -> Any:
        """Delete a record past its retention, or a claim whose lease ran out: only while it
        still is one, so a record another request has just written in its place stays."""
        c = self.table.c

        def build() -> Any:
            past = c.created_at < sa.bindparam("before")
            lapsed = sa.and_(c.state != DONE, c.locked_until <= sa.bindparam("now"))
            return sa.delete(self.table).where(*self._mine, sa.or_(past, lapsed))

        return conn.compiled((IDEMPOTENCY_TABLE, "forget"), build)

    def take_over(self, conn: Connection) -> Any:
        c = self.table.c

        def build() -> Any:
            lapsed = (c.state == RUNNING, c.locked_until <= sa.bindparam("now"))
            again: dict[str, Any] = {
                "lease": sa.bindparam("lease"),
                "locked_until": sa.bindparam("until"),
            }
            return sa.update(self.table).where(*self._mine, *lapsed).values(again)

        return conn.compiled((IDEMPOTENCY_TABLE, "take_over"), build)

    def complete(self, conn: Connection) -> Any:
        c = self.table.c

        def build() -> Any:
            answer = {"state": DONE, **_answer()}
            owned = (c.state == RUNNING, c.lease == sa.bindparam("lease"))
            return sa.update(self.table).where(*self._mine, *owned).values(answer)

        return conn.compiled((IDEMPOTENCY_TABLE, "complete"), build)

    def let_go(self, conn: Connection) -> Any:
        c = self.table.c

        def build() -> Any:
            owned = (c.state == RUNNING, c.lease == sa.bindparam("lease"))
            return sa.delete(self.table).where(*self._mine, *owned)

        return conn.compiled((IDEMPOTENCY_TABLE, "let_go"), build)

    def sweep(self, conn: Connection) -> Any:
        c = self.table.c

        def build() -> Any:
            old = sa.select(c.caller, c.key).where(c.created_at < sa.bindparam("before"))
            batch = old.limit(1000).subquery()
            keys = sa.tuple_(c.caller, c.key).in_(sa.select(batch.c.caller, batch.c.key))
            return sa.delete(self.table).where(keys)

        return conn.compiled((IDEMPOTENCY_TABLE, "sweep"), build)


def answer_values(response: Response) -> dict[str, Any]:
    """An answer as its record keeps it: status, head (media type and headers) and body."""
    media = response.media_type.decode("latin-1") if response.media_type else None
    head = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.headers]
    return {
        "status": response.status,
        "head": orjson.dumps({"media": media, "headers": head}).decode(),
        "body": response.body,
    }


def replayed(row: Any) -> Response:
    head = orjson.loads(row["head"])
    media = head["media"].encode("latin-1") if head["media"] is not None else None
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in head["headers"]]
    return Response(row["status"], bytes(row["body"] or b""), media, [*headers, REPLAYED])
