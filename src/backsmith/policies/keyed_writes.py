"""An idempotency record written by its create's own INSERT, on PostgreSQL.

A keyed request otherwise runs BEGIN, its claim, its work, the record's answer and
COMMIT: five round trips where a create alone takes one. A create that is one
INSERT ... RETURNING (no parents, children, derived values, hooks or events) writes its
record in that same statement, which PostgreSQL runs atomically:

    WITH changed AS (INSERT INTO orders ... RETURNING *),
         kept AS (INSERT INTO backsmith_idempotency (...) SELECT ..., row_to_json(changed.*) ...)
    SELECT * FROM changed

The record keeps the row, not the answer's bytes, less its writeOnly columns (a password's
hash), which no answer shows: a replay reads the row back in the table's own types
(`jsonb_populate_record`, those columns null) and answers it the way the create did, which
gives the same status, headers and body. No claim is held while the request runs: a
second request with the key that races the first waits on the record's key (or on its
row's unique column) only while the first's one statement runs, then fails, finds the
first's record and is answered from it. No process can die leaving a claim behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from backsmith.policies.idempotency_statements import DONE
from backsmith.storage.idempotency_table import IDEMPOTENCY_TABLE
from backsmith.storage.statements import constant

if TYPE_CHECKING:
    from backsmith.storage.statements import Connection, Row

# A record's head when it keeps its create's row (as JSON, in its body) instead of an answer.
KEPT_ROW = '{"kept": "row"}'


class KeyedWrite:
    """One request's record beside its create's INSERT (`storage.Beside`), or the row a
    replay answers (`replayed`), set on the request by the idempotency step."""

    __slots__ = ("key", "params", "replayed", "secret", "table")

    def __init__(self, table: sa.Table, values: dict[str, Any], replayed: Row | None = None):
        self.table = table  # the records'
        # the write's statement is compiled once with it
        self.key: str | tuple[str, tuple[str, ...]] = IDEMPOTENCY_TABLE
        self.params = {
            "i_caller": values["caller"],
            "i_key": values["key"],
            "i_fingerprint": values["fingerprint"],
            "i_status": None,
        }
        self.replayed = replayed
        self.secret: tuple[str, ...] = ()

    def answering(self, status: int, secret: tuple[str, ...] = ()) -> KeyedWrite:
        """This record, keeping the status the create answers with and the row less its
        `secret` columns (compiled once for each set of them)."""
        self.params["i_status"] = status
        if secret:
            self.secret, self.key = secret, (IDEMPOTENCY_TABLE, secret)
        return self

    def around(self, write: Any) -> Any:
        changed = write.cte("changed")
        # json, not jsonb: written as it is built, not built, sorted and written again
        whole: Any = sa.func.row_to_json(sa.literal_column("changed.*"))
        if self.secret:
            shown = [c for c in changed.c if c.name not in self.secret]
            whole = sa.func.json_build_object(*(x for c in shown for x in (constant(c.name), c)))
        row = sa.cast(whole, sa.Text)
        # The database's clock: a parameter less to encode on every keyed create (records
        # are kept a day, far past any skew between its clock and this process's). A record
        # written here is done: its lease is empty and its lock already over.
        now = sa.func.now()
        kept = sa.select(
            sa.bindparam("i_caller", type_=sa.String),
            sa.bindparam("i_key", type_=sa.String),
            sa.bindparam("i_fingerprint", type_=sa.String),
            constant(DONE),
            constant(""),
            now,
            now,
            sa.bindparam("i_status", type_=sa.Integer),
            constant(KEPT_ROW),
            sa.func.convert_to(row, constant("UTF8")),
        ).select_from(changed)
        columns = ["caller", "key", "fingerprint", "state", "lease", "locked_until"]
        columns += ["created_at", "status", "head", "body"]
        recorded = sa.insert(self.table).from_select(columns, kept).cte("kept")
        return sa.select(changed).add_cte(recorded)


def kept_row(record: Row) -> str | None:
    """The row a record written beside its create keeps (its JSON), else None."""
    return bytes(record["body"]).decode() if record["head"] == KEPT_ROW else None


async def read_kept_row(conn: Connection, table: sa.Table, row: str) -> Row:
    """A kept row back in its table's own types, as the create's INSERT returned it."""

    def build() -> Any:
        name = conn.dialect.identifier_preparer.format_table(table)
        typed = sa.func.jsonb_populate_record(
            sa.literal_column(f"NULL::{name}"), sa.cast(sa.bindparam("row", type_=sa.Text), JSONB)
        )
        source = typed.table_valued(*(sa.column(c.name, c.type) for c in table.c))
        return sa.select(source.alias("kept"))

    statement = conn.compiled((table.name, "kept row"), build)
    return (await conn.execute(statement, {"row": row})).one()
