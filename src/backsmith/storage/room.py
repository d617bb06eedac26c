"""Whether PostgreSQL lets every worker open its whole pool, said once before serving.

A worker opens up to `pool_size` connections as its requests need them, so a service that
PostgreSQL cannot give them all works until a busy moment, when connections past its
`max_connections` are refused and their requests answered 503. Said at start-up instead,
when the workers' pools together could exceed what PostgreSQL takes from clients that are
not superusers. Other clients of the database are not counted: PostgreSQL cannot say who
will come. Behind PgBouncer the pool is PgBouncer's to bound.
"""

from __future__ import annotations

import sqlalchemy as sa

from backsmith.settings import Settings
from backsmith.storage.engine import is_sqlite, make_engine

_LIMITS = sa.text(
    "SELECT current_setting('max_connections')::int, "
    "current_setting('superuser_reserved_connections')::int"
)


async def pools_too_large(settings: Settings) -> str | None:
    """What to tell when the workers' pools may outgrow PostgreSQL's connections; None when
    they fit, on SQLite, behind PgBouncer, or when the limits cannot be read."""
    url = settings.database_url
    if is_sqlite(url) or settings.pgbouncer:
        return None
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            most, reserved = (await conn.execute(_LIMITS)).one()
    except Exception:  # the preflight has reached it already: nothing more to say here
        return None
    finally:
        await engine.dispose()
    return too_many(settings.workers, settings.pool_size, most, reserved)


def too_many(workers: int, pool_size: int, most: int, reserved: int) -> str | None:
    """The warning for `workers` pools of `pool_size` against PostgreSQL's `max_connections`
    (`most`) less `superuser_reserved_connections`; None when they fit."""
    wanted, room = workers * pool_size, most - reserved
    if wanted <= room:
        return None
    return (
        f"pool_size: {workers} worker(s) of {pool_size} connections may open {wanted}, "
        f"more than the {room} PostgreSQL takes (max_connections {most}, {reserved} kept "
        "for superusers); past them requests are answered 503. Lower BACKSMITH_POOL_SIZE "
        "or --workers, raise max_connections, or put PgBouncer in front"
    )
