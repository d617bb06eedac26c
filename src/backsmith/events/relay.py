"""The relay: takes committed events from the outbox and delivers them, at least once.

Each pass claims a batch of pending rows whose time has come, in a short transaction that
gives them a lease (`locked_until`); on PostgreSQL the claim reads with `FOR UPDATE SKIP
LOCKED`, so relays in several processes or instances never claim one row together, and
on SQLite the claim's `BEGIN IMMEDIATE` does the same. A row is claimed only when no
earlier row of the same resource instance is still pending for its target: events reach
each target in order per instance. A relay that dies mid-delivery leaves its lease to run
out, and the row is delivered again, under the same event id. A failed delivery is
retried after an exponential backoff with jitter, and dead-lettered after the configured
number of attempts (`backsmith events retry` brings it back).

A row delivered or dead leaves the outbox for the event log in the transaction that
settles it: the outbox stays as short as the backlog, so it needs no index but its
primary key, and a write that publishes an event pays for one index, not three.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson
import sqlalchemy as sa

from backsmith.events.message import DeliveryFailed, Message
from backsmith.events.recorder import DEAD, DELIVERED, EVENT_LOG_ROWS, OUTBOX_ROWS, PENDING
from backsmith.observe.metrics import metrics, target_label
from backsmith.storage.database import Database
from backsmith.storage.statements import Connection
from backsmith.storage.unit import run_unit

log = logging.getLogger("backsmith.events")
_T, _LOG = OUTBOX_ROWS, EVENT_LOG_ROWS
SCAN_PAGE = 500  # pending rows read at a time while looking for a batch to deliver
SCAN_PAGES = 20  # pages read at most per target and pass: a backlog held up is bounded
CHOICE = 4  # batches of candidates a claim chooses from, so relays claiming at once share
MAX_BACKOFF = 3600.0  # seconds: the longest wait between two attempts
BACKLOG_EVERY = 5.0  # seconds between two counts of the outbox's waiting events


class Sender(Protocol):
    name: str

    async def publish(self, message: Message) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Policy:
    """How hard the relay tries: attempts before the dead letter, waits, batch and lease."""

    attempts: int = 8
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    batch: int = 50
    lease: float = 30.0  # seconds a claimed row stays another relay's; above any timeout
    poll: float = 0.25  # seconds between passes that found nothing to do
    retention: float = 7 * 86400.0  # seconds delivered rows are kept (0: for ever)
    sweep_every: float = 60.0  # seconds between two sweeps of rows past their retention

    def wait(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`: exponential, capped, half of it jitter."""
        delay = min(self.backoff * 2.0 ** max(attempts - 1, 0), MAX_BACKOFF)
        return float(delay * random.uniform(0.5, 1.0))


def message_of(row: Mapping[str, Any]) -> Message:
    """The bytes every target gets for one outbox row."""
    occurred = row["occurred_at"]
    body = {
        "id": row["event_id"],
        "type": row["type"],
        "timestamp": occurred.isoformat().replace("+00:00", "Z"),
        "resource": row["resource"],
        "key": row["resource_key"],
        "subject": row["subject"],
        "operation": row["operation"],
        "data": orjson.Fragment(row["data"]),
    }
    return Message(row["event_id"], row["type"], orjson.dumps(body), int(occurred.timestamp()))


class Relay:
    """Delivers the outbox's rows to the senders, one pass at a time or until stopped."""

    def __init__(
        self, database: Database, senders: Sequence[Sender], policy: Policy | None = None
    ) -> None:
        self.database = database
        self.senders = {sender.name: sender for sender in senders}
        self.policy = policy or Policy()
        self._skip_locked = database.dialect.name == "postgresql"

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; a database that is down is waited for."""
        swept = counted = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - swept > self.policy.sweep_every:
                    await self.sweep()
                    swept = time.monotonic()
                if time.monotonic() - counted > BACKLOG_EVERY:
                    await self.count_backlog()
                    counted = time.monotonic()
                done = await self.run_once()
            except Exception as error:  # the database went away: try again shortly
                log.warning("event relay: %s", error)
                done = 0
            if not done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.policy.poll)

    async def run_once(self) -> int:
        """Claim a batch and deliver it; how many rows were attempted."""
        now = datetime.now(UTC)
        claimed: list[dict[str, Any]] = await run_unit(
            self.database, lambda conn: self._claim(conn, now), transaction=True
        )
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(row) for row in claimed))
        await run_unit(
            self.database,
            lambda conn: self._settle(conn, claimed, outcomes),
            transaction=True,
        )
        return len(claimed)

    async def _claim(self, conn: Connection, now: datetime) -> list[dict[str, Any]]:
        due = await self._due(conn, now)
        if not due:
            return []
        # Read again under a lock: another relay may have claimed some of them meanwhile,
        # or be claiming them now (its rows are skipped, so it takes the next ones).
        query = (
            sa.select(_T)
            .where(
                _T.c.seq.in_(due),
                _T.c.status == PENDING,
                _T.c.next_attempt_at <= now,  # another relay may have failed it meanwhile
                _free(now),
            )
            .order_by(_T.c.seq)
            .limit(self.policy.batch)
        )
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True, of=_T)
        rows = (await conn.execute(query)).all()
        if rows:
            until = now + timedelta(seconds=self.policy.lease)
            seqs = [row["seq"] for row in rows]
            lease = sa.update(_T).where(_T.c.seq.in_(seqs)).values(locked_until=until)
            await conn.execute(lease)
        return [dict(row) for row in rows]

    async def _due(self, conn: Connection, now: datetime) -> list[int]:
        """The `seq` of up to CHOICE batches of rows to deliver now (relays claiming at once
        share them), in order: pending, due, not leased, and each the first row still
        pending of its resource instance for its target."""
        found: list[int] = []
        for target in self.senders:
            found += await self._due_to(conn, now, target)
        return sorted(found)[: self.policy.batch * CHOICE]

    async def _due_to(self, conn: Connection, now: datetime, target: str) -> list[int]:
        """`_due` for one target, so that a target whose events wait for their retries
        never hides another's.

        The outbox holds only what is still to deliver, so its pending rows are read in
        `seq` order, a page at a time, with its primary key as the only index: a row waits
        while an earlier one of its instance is pending, in flight or waiting for its
        retry. Events of no resource instance keep no order.
        """
        ready = sa.and_(_T.c.next_attempt_at <= now, _free(now)).label("ready")
        page = (
            sa.select(_T.c.seq, _T.c.resource, _T.c.resource_key, ready)
            .where(_T.c.status == PENDING, _T.c.target == target)
            .order_by(_T.c.seq)
            .limit(SCAN_PAGE)
        )
        waiting: set[tuple[str, str]] = set()
        due: list[int] = []
        after: int | None = None
        for _ in range(SCAN_PAGES):
            query = page if after is None else page.where(_T.c.seq > after)
            rows = (await conn.execute(query)).all()
            for row in rows:
                first = True
                if row["resource"] is not None and row["resource_key"] is not None:
                    instance = (row["resource"], row["resource_key"])
                    first = instance not in waiting
                    waiting.add(instance)
                if first and row["ready"]:
                    due.append(row["seq"])
                    if len(due) >= self.policy.batch * CHOICE:
                        return due
            if len(rows) < SCAN_PAGE:
                break
            after = rows[-1]["seq"]
        return due

    async def _deliver(self, row: Mapping[str, Any]) -> str | None:
        """None when delivered, else why not; timed, and counted when it fails."""
        start = time.perf_counter()
        failure = await self._attempt(row)
        target = target_label(row["target"])
        found = metrics()
        found.delivery_duration.labels(target).observe(time.perf_counter() - start)
        if failure is not None:
            found.delivery_failures.labels(target).inc()
        return failure

    async def _attempt(self, row: Mapping[str, Any]) -> str | None:
        sender = self.senders[row["target"]]
        try:
            async with asyncio.timeout(self.policy.lease * 0.8):
                await sender.publish(message_of(row))
        except DeliveryFailed as error:
            return str(error) or "failed"
        except TimeoutError:
            return "no answer in time"
        except Exception as error:  # a sender's own fault: kept as the row's last error
            log.exception("event %s to %s", row["event_id"], row["target"])
            return f"{type(error).__name__}: {error}"
        return None

    async def count_backlog(self) -> int:
        """Events waiting for delivery, as the outbox backlog gauge shows."""
        waiting = sa.select(sa.func.count()).select_from(_T).where(_T.c.status == PENDING)
        count = int(await run_unit(self.database, lambda conn: _scalar(conn, waiting)))
        metrics().outbox_backlog.set(count)
        return count

    async def _settle(
        self, conn: Connection, rows: Sequence[Mapping[str, Any]], outcomes: Sequence[str | None]
    ) -> None:
        now = datetime.now(UTC)
        finished: list[int] = []
        for row, error in zip(rows, outcomes, strict=True):
            attempts = row["attempts"] + 1
            values: dict[str, Any] = {"attempts": attempts, "locked_until": None}
            if error is None:
                values |= {"status": DELIVERED, "delivered_at": now, "last_error": None}
            elif attempts >= self.policy.attempts:
                values |= {"status": DEAD, "last_error": error[:1000]}
                log.error(
                    "event %s (%s) to %s dead after %d attempts: %s",
                    row["event_id"],
                    row["type"],
                    row["target"],
                    attempts,
                    error,
                )
            else:
                wait = timedelta(seconds=self.policy.wait(attempts))
                values |= {"next_attempt_at": now + wait, "last_error": error[:1000]}
                log.info(
                    "event %s to %s failed (%s); attempt %d in %.1fs",
                    row["event_id"],
                    row["target"],
                    error,
                    attempts + 1,
                    wait.total_seconds(),
                )
            # The row by its event and target too: on SQLite, once another relay took the
            # row over (this one's lease ran out) and moved it, its seq may be a new row's.
            this = sa.and_(
                _T.c.seq == row["seq"],
                _T.c.event_id == row["event_id"],
                _T.c.target == row["target"],
            )
            changed = await conn.execute(sa.update(_T).where(this).values(**values))
            if changed.rowcount == 1 and values.get("status") in (DELIVERED, DEAD):
                finished.append(row["seq"])
        if finished:
            await move_to_log(conn, sa.and_(_T.c.seq.in_(finished), _T.c.status != PENDING))

    async def sweep(self, batch: int = 10_000) -> int:
        """Move rows an older release left in the outbox once delivered or dead to the
        event log; then delete delivered events past their retention (none when it is 0),
        a batch at a time (short locks): how many were deleted. Dead ones stay: they wait
        for `backsmith events retry`."""
        while True:
            moved = await run_unit(
                self.database, lambda conn: self._move_settled(conn, batch), transaction=True
            )
            if moved < batch:
                break
        if not self.policy.retention:
            return 0
        before = datetime.now(UTC) - timedelta(seconds=self.policy.retention)
        row = sa.tuple_(_LOG.c.event_id, _LOG.c.target)
        gone = sa.select(_LOG.c.event_id, _LOG.c.target).where(
            _LOG.c.status == DELIVERED, _LOG.c.delivered_at < before
        )
        statement = sa.delete(_LOG).where(row.in_(gone.limit(batch)))
        total = 0
        while True:
            result = await run_unit(self.database, lambda conn: conn.execute(statement))
            total += result.rowcount
            if result.rowcount < batch:
                return total

    async def _move_settled(self, conn: Connection, batch: int) -> int:
        left = sa.select(_T.c.seq).where(_T.c.status != PENDING, _T.c.locked_until.is_(None))
        if self._skip_locked:
            left = left.with_for_update(skip_locked=True)
        seqs = (await conn.execute(left.limit(batch))).scalars()
        if seqs:
            await move_to_log(conn, _T.c.seq.in_(seqs))
        return len(seqs)

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()


def _free(now: datetime) -> Any:
    """No relay holds the row's lease."""
    return sa.or_(_T.c.locked_until.is_(None), _T.c.locked_until < now)


async def move_to_log(conn: Connection, where: Any) -> None:
    """The outbox's rows that match `where` moved to the event log, under their own `seq`."""
    columns = [column.name for column in _T.c]
    chosen = sa.select(*(_T.c[name] for name in columns)).where(where)
    await conn.execute(sa.insert(_LOG).from_select(columns, chosen))
    await conn.execute(sa.delete(_T).where(where))


async def _scalar(conn: Connection, statement: Any) -> Any:
    return (await conn.execute(statement)).scalar_one()
