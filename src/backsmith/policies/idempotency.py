"""The idempotency step: a request sent again with its Idempotency-Key is answered once.

Following the IETF httpapi draft (draft-ietf-httpapi-idempotency-key-header-06), as
payment APIs use it. A POST honours the key unless the contract says otherwise, and
`x-backsmith: {idempotency: required}` refuses a POST or PATCH without one (400).

A key is scoped to its caller (the principal, else the client's address). A request's
write and its key's record commit together or not at all, one of three ways:

- PostgreSQL, a create that is one INSERT: the INSERT writes the record, which keeps the
  row; a replay answers that row as the create does (`_run_beside`, policies.keyed_writes);
- PostgreSQL, any other operation: the claim is made under the key's advisory lock inside
  the transaction held around the work, and the answer completes it (`_run_locked`);
- SQLite: the claim (`running`, with a lease) is committed alone first, then the work and
  the answer run in a held transaction.

Then:

- the same key and the same request (method, path, query and body): the stored answer
  is sent again, status, headers and body byte for byte, touching no data;
- the same key and another request: 422;
- the same key while the first still runs: 409, with `Retry-After`;
- a 4xx answer is stored like any other; a 5xx is not, and its claim is let go, so the
  client may retry;
- a claim whose process died (SQLite) is taken over once its lease has run out; the late
  first attempt, should it wake, finds its claim gone and rolls back.

Records are kept `idempotency_hours` (24 by default) and swept by age.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import sqlalchemy as sa

from backsmith.errors import BadRequest, IdempotencyKeyInUse, IdempotencyKeyReused, Problem
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.model.policies import Idempotency
from backsmith.observe.metrics import metrics, operation_of
from backsmith.policies.idempotency_statements import (
    DONE,
    REPLAYED,
    RecordStatements,
    answer_values,
    lock_of,
    replayed,
)
from backsmith.policies.keyed_writes import KeyedWrite, kept_row, read_kept_row
from backsmith.security.accounts import caller_key
from backsmith.storage.idempotency_table import IDEMPOTENCY_TABLE
from backsmith.storage.unit import HeldTransaction, run_unit

if TYPE_CHECKING:  # the pipeline lists this step: its types are only named here
    from backsmith.http.pipeline import Endpoint
    from backsmith.storage.statements import Connection

log = logging.getLogger("backsmith")
HEADER = b"idempotency-key"
MAX_KEY = 255
SWEEP_EVERY_S = 600.0
CLAIMED, BUSY = "claimed", "busy"  # what a claim found besides a stored answer
EXPIRED, LAPSED = "expired", "lapsed"  # a record that no longer holds its key


class Keyed(Protocol):
    """The facts the idempotency step reads."""

    idempotent: Records | None
    errors: Any  # the plan's ErrorAnswerer: a 4xx is stored as the operation answers it


def read_key(request: Request) -> str | None:
    """The request's Idempotency-Key, as an RFC 8941 string or a bare token; 400 if bad."""
    found = [value for name, value in request.scope["headers"] if name == HEADER]
    if not found:
        return None
    if len(found) > 1:
        raise BadRequest("Send one Idempotency-Key header, not several.")
    text: str = found[0].decode("latin-1").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    visible = text.isascii() and text.isprintable() and " " not in text  # 0x21 to 0x7e
    if not text or len(text) > MAX_KEY or not visible:
        raise BadRequest(
            f"The Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters, "
            'such as a UUID (sent bare or as an RFC 8941 string, "...").'
        )
    return text


def fingerprint(request: Request) -> str:
    """What makes two requests the same one: method, path, query and the body's value."""
    body = request.parsed.body if request.parsed is not None else None
    scope = request.scope
    parts = (
        scope["method"].encode(),
        request.raw_path.encode(),
        scope.get("query_string", b""),
        orjson.dumps(body, option=orjson.OPT_SORT_KEYS),
    )
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def caller_of(request: Request) -> str:
    """Whose keys these are: the principal, else the client's address and credentials.

    An operation open to anyone reads no credentials, yet two callers behind one address
    must not share keys: a credential sent along (its digest, never itself) tells them apart.
    """
    caller = caller_key(request)
    credential = request.header(b"authorization") if caller.startswith("address:") else None
    if credential:
        caller += ":" + hashlib.sha256(credential.encode("latin-1")).hexdigest()[:32]
    return caller


class Records:
    """One operation's idempotency: whether keys are required, and the records' table."""

    def __init__(
        self,
        mode: Idempotency,
        table: sa.Table,
        database: Any,
        retention: timedelta,
        lease: timedelta,
    ) -> None:
        self.required = mode == Idempotency.REQUIRED
        self.table = table
        self.database = database  # a provider: the database is opened at start-up
        self.retention = retention
        self.lease = lease
        self._statements = RecordStatements(table)
        # PostgreSQL, a create that is one INSERT: its table, where the record is written
        # by that INSERT (policies.keyed_writes); set once plans are built.
        self.creates_in: sa.Table | None = None

    async def run(self, request: Request, key: str, answerer: Any, work: Endpoint) -> Response:
        database = self.database()
        now = datetime.now(UTC)
        caller = caller_of(request)
        postgres = database.dialect.name == "postgresql"
        beside = postgres and self.creates_in is not None
        values = {
            "caller": caller,
            "key": key,
            "fingerprint": fingerprint(request),
            "lease": "" if beside else secrets.token_hex(16),  # a claim never left running
            "now": now,
            "until": now + self.lease,
            "before": now - self.retention,  # older records are past their retention
        }
        self._sweep_now_and_then(database, now)
        if postgres:
            if beside:
                return await self._run_beside(database, request, values, answerer, work)
            values["lock"] = lock_of(caller, key)
            return await self._run_locked(database, request, values, answerer, work)
        found = await self._claim(database, values)
        if found is not CLAIMED:
            return await self._answer(found, request, values, work)
        held = HeldTransaction(database)
        return await self._held(held, await held.open(), request, values, answerer, work, False)

    async def _run_locked(
        self,
        database: Any,
        request: Request,
        values: dict[str, Any],
        answerer: Any,
        work: Endpoint,
    ) -> Response:
        """PostgreSQL: the claim, the work and its answer in one transaction, one COMMIT.

        The claim is never committed alone. While the request runs, its transaction holds
        the key's advisory lock (another request with the key finds it taken: 409) and its
        record, uncommitted; a process that dies takes both with it, so no claim is left
        behind to wait out. A refusal's work is undone and its answer stored on its own.
        """
        held = HeldTransaction(database)
        conn = await held.open()
        try:
            claim = self._statements.claim_locked(conn)
            got, claimed = (await conn.execute(claim, values)).one()
            found = CLAIMED if claimed else BUSY if not got else await self._settle(conn, values)
        except BaseException:
            await held.rollback()
            raise
        if found is not CLAIMED:
            await held.rollback()
            return await self._answer(found, request, values, work)
        return await self._held(held, conn, request, values, answerer, work, True)

    async def _held(
        self,
        held: HeldTransaction,
        conn: Connection,
        request: Request,
        values: dict[str, Any],
        answerer: Any,
        work: Endpoint,
        locked: bool,
    ) -> Response:
        """The work in the transaction held for it, its answer completing the claim there.

        A refusal is undone and its answer stored on its own; a 5xx or a failure is undone,
        and a claim committed on its own (not `locked` in the transaction) is let go.
        """
        database = held.database
        request.unit = held.units
        try:
            try:
                response = await work(request)
            except Problem as problem:
                if problem.status >= 500:
                    raise
                await held.rollback()  # a refusal wrote nothing: its answer is stored alone
                response = answerer.response(problem, request.raw_path)
                assert isinstance(response, Response)
                await run_unit(database, lambda c: self._store(c, values, response, locked))
                return response
            if response.status >= 500:  # not stored: the client may try again
                await held.rollback()
                if not locked:
                    await self._let_go(database, values)
                return response
            await self._store(conn, values, response)
            await held.commit()
            return response
        except BaseException:
            await held.rollback()
            if not locked:
                await self._let_go(database, values)
            raise
        finally:
            held.release()
            request.unit = None

    async def _run_beside(
        self,
        database: Any,
        request: Request,
        values: dict[str, Any],
        answerer: Any,
        work: Endpoint,
        again: bool = True,
    ) -> Response:
        """PostgreSQL, a create that is one INSERT: its record is written by that INSERT.

        A refusal wrote nothing; the key's record, where one stands, then answers instead
        (a first request's, whose record key or row's unique column refused this one).
        """
        request.keyed = KeyedWrite(self.table, values)
        try:
            return await work(request)
        except Problem as problem:
            if problem.status >= 500:
                raise
            refusal = problem
        finally:
            request.keyed = None
        statements = self._statements
        found = await run_unit(database, lambda c: _first(c, statements.read(c), values))
        if found is None and again:  # the record that refused it may have just been swept
            return await self._run_beside(database, request, values, answerer, work, False)
        if found is None:  # refused on its own: kept as any first answer is
            response = answerer.response(refusal, request.raw_path)
            assert isinstance(response, Response)
            await run_unit(database, lambda c: self._store(c, values, response, True))
            return response
        judged = _judged(found, values)
        if judged is EXPIRED or judged is LAPSED:
            if not again:
                raise refusal
            await run_unit(database, lambda c: c.execute(statements.forget(c), values))
            return await self._run_beside(database, request, values, answerer, work, False)
        return await self._answer(judged, request, values, work)

    async def _claim(self, database: Any, values: dict[str, Any]) -> Any:
        """Claim the key for this request, committed (CLAIMED), or what its record says."""
        statements = self._statements

        async def first(conn: Connection) -> bool:
            return bool((await conn.execute(statements.claim(conn), values)).all())

        # A new key (the usual case) is one statement; a key seen before, a transaction.
        if await run_unit(database, first):
            return CLAIMED
        return await run_unit(database, lambda c: self._settle(c, values), transaction=True)

    async def _answer(
        self, found: Any, request: Request, values: dict[str, Any], work: Endpoint
    ) -> Response:
        """What a key's record answers: 409 while its request runs, else its answer again;
        a record that keeps its create's row is answered as the create answers the row."""
        if found == BUSY:
            raise IdempotencyKeyInUse(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                headers={"retry-after": "1"},
            )
        kept = kept_row(found)
        if kept is None:
            return replayed(found)
        table = self.creates_in
        if table is None:  # kept by a create this service no longer makes in one INSERT
            raise _reused()
        row = await run_unit(self.database(), lambda c: read_kept_row(c, table, kept))
        request.keyed = KeyedWrite(self.table, values, row)
        try:
            response = await work(request)
        finally:
            request.keyed = None
        response.headers.append(REPLAYED)
        return response

    async def _settle(self, conn: Connection, values: dict[str, Any]) -> Any:
        """A key that has a record: CLAIMED anew, BUSY, or its record to replay; 422 if reused."""
        statements = self._statements
        row = (await conn.execute(statements.read(conn), values)).first()
        judged = _judged(row, values) if row is not None else None
        if judged is LAPSED:
            taken = await conn.execute(statements.take_over(conn), values)
            return CLAIMED if taken.rowcount == 1 else BUSY
        if judged is not None and judged is not EXPIRED:
            return judged
        if judged is EXPIRED:  # else let go or swept: a new request all the same
            await conn.execute(statements.forget(conn), values)
        return CLAIMED if (await conn.execute(statements.claim(conn), values)).all() else BUSY

    async def _store(
        self, conn: Connection, values: dict[str, Any], response: Response, alone: bool = False
    ) -> None:
        """Complete the claim with the answer; `alone`: write the whole record, no claim
        having been committed (a refusal whose claim was undone with its work)."""
        answer = {**values, **answer_values(response)}
        if alone:
            await conn.execute(self._statements.keep(conn), answer)
            return
        done = await conn.execute(self._statements.complete(conn), answer)
        if done.rowcount != 1:  # taken over after our lease ran out: we lost it
            raise IdempotencyKeyInUse(
                "This request outran its Idempotency-Key's lease and another took it "
                "over; its work was undone.",
                headers={"retry-after": "1"},
            )

    async def _let_go(self, database: Any, values: dict[str, Any]) -> None:
        """Free a claim whose request failed, so a retry runs anew."""
        try:
            await run_unit(database, lambda c: c.execute(self._statements.let_go(c), values))
        except Exception as error:  # its lease runs out all the same
            log.warning("an Idempotency-Key claim could not be let go: %s", error)

    _last_sweep = 0.0
    _sweeping: asyncio.Task[None] | None = None

    def _sweep_now_and_then(self, database: Any, now: datetime) -> None:
        if time.monotonic() - Records._last_sweep < SWEEP_EVERY_S:
            return
        Records._last_sweep = time.monotonic()
        Records._sweeping = asyncio.get_running_loop().create_task(self._sweep(database, now))

    async def _sweep(self, database: Any, now: datetime) -> None:
        """Delete records past their retention, a batch at a time."""
        values = {"before": now - self.retention}
        try:
            while True:
                gone = await run_unit(
                    database, lambda c: c.execute(self._statements.sweep(c), values)
                )
                if gone.rowcount < 1000:
                    return
        except Exception as error:
            log.warning("idempotency records could not be swept: %s", error)


def _reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "This Idempotency-Key was sent with another request; use a new key."
    )


async def _first(conn: Connection, statement: Any, values: dict[str, Any]) -> Any:
    return (await conn.execute(statement, values)).first()


def _judged(record: Any, values: dict[str, Any]) -> Any:
    """What a key's record says of a request with the key: EXPIRED (past its retention: a
    new request), the record itself (done: its answer again), BUSY (its request still
    runs) or LAPSED (a claim whose lease ran out: its process died); 422 if the record is
    another request's."""
    if _aware(record["created_at"]) < values["before"]:
        return EXPIRED
    if record["fingerprint"] != values["fingerprint"]:
        raise _reused()
    if record["state"] == DONE:
        return record
    return BUSY if _aware(record["locked_until"]) > values["now"] else LAPSED


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def idempotency(plan: Keyed, next_step: Endpoint) -> Endpoint | None:
    """Answer a request sent again with its key from its record; run a new one once."""
    records = plan.idempotent
    if records is None:
        return None
    answerer = plan.errors
    replays = metrics().idempotent_replays.labels(operation_of(plan))

    async def keyed(request: Request) -> Response:
        key = read_key(request)
        if key is None:
            if records.required:
                raise BadRequest("This operation needs an Idempotency-Key header.")
            return await next_step(request)
        response = await records.run(request, key, answerer, next_step)
        if REPLAYED in response.headers:
            replays.inc()
        return response

    return keyed


def records_for(
    mode: Idempotency | None, tables: dict[str, sa.Table], database: Any, settings: Any
) -> Records | None:
    """An operation's records, or None where it takes no key."""
    if mode is None or IDEMPOTENCY_TABLE not in tables:
        return None
    retention = timedelta(hours=settings.idempotency_hours)
    lease = timedelta(seconds=settings.idempotency_lease_seconds)
    return Records(mode, tables[IDEMPOTENCY_TABLE], database, retention, lease)
