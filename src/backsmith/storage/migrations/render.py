"""A plan -> an Alembic revision file: upgrade(), downgrade() and the schema after it.

The file is plain Alembic: `from alembic import op`, SQLAlchemy types, batch blocks (so
SQLite can rebuild a table where it cannot ALTER it), nothing of backsmith's imported.
Its text depends only on the plan, never on the time, so one contract plans one file.
"""

from __future__ import annotations

import pprint
import textwrap
from typing import Any, Literal

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from backsmith.storage.columns import KEY_TEXT_LENGTH, TypeSpec
from backsmith.storage.migrations.alter import Numbered
from backsmith.storage.migrations.diff import Code, Concurrent, Item, Kept, Plan
from backsmith.storage.migrations.state import Snapshot

_MYSQL = '"mysql", "mariadb"'


def render_type(spec: TypeSpec) -> str:
    """The SQLAlchemy expression of a described type, as the file spells it."""
    name = spec["type"]
    simple = {
        "uuid": "sa.Uuid()",
        "integer": "sa.Integer()",
        "bigint": 'sa.BigInteger().with_variant(sa.Integer(), "sqlite")',
        "double": "sa.Double()",
        "decimal": f"sa.Numeric().with_variant(mysql.DECIMAL(38, 10), {_MYSQL})",
        "boolean": "sa.Boolean()",
        "timestamp": f"sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), {_MYSQL})",
        "date": "sa.Date()",
        "json": 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")',
        "binary": "sa.LargeBinary()",
    }
    if name in simple:
        return simple[name]
    if name == "enum":
        values = ", ".join(repr(v) for v in spec["values"])
        if spec["native"]:  # its type is created and dropped by its own step
            return f"postgresql.ENUM({values}, name={spec['name']!r}, create_type=False)"
        return f"sa.Enum({values}, name={spec['name']!r}, native_enum=False)"
    if name == "array":
        item = render_type(spec["item"])
        return f'sa.JSON().with_variant(postgresql.ARRAY({item}), "postgresql")'
    if name == "string":
        return f"sa.String({spec['length']})"
    if name == "text" and spec.get("keyed"):
        return f"sa.Text().with_variant(sa.String({KEY_TEXT_LENGTH}), {_MYSQL})"
    if name == "text":
        return "sa.Text()"
    raise ValueError(f"unknown column type {spec!r}")


def _render_item(kind: str, obj: Any, context: Any) -> str | Literal[False]:
    if kind == "server_default":
        # Alembic writes an altered column's SQL default bare (`server_default=1`).
        if isinstance(obj, sa.TextClause):
            return f"sa.text({obj.text!r})"
        return repr(obj) if isinstance(obj, str) else False
    if kind != "type":
        return False  # Alembic's own rendering
    spec = getattr(obj, "_backsmith_spec", None)
    if spec is None and isinstance(obj, sa.Enum):  # copied onto its table without the spec
        spec = {"type": "enum", "values": list(obj.enums), "name": obj.name}
        spec["native"] = bool(obj.native_enum)
    return render_type(spec) if spec is not None else False


def _operation(operation: ops.MigrateOperation) -> list[str]:
    code = render_python_code(
        ops.UpgradeOps(ops=[operation]), render_as_batch=True, render_item=_render_item
    )
    lines = [line for line in code.splitlines() if not line.strip().startswith("# ###")]
    return textwrap.dedent("\n".join(lines)).strip("\n").splitlines()


def _concurrent(item: Concurrent) -> list[str]:
    operation = item.operation
    retry: list[str] = []
    failed: list[str] = []
    if isinstance(operation, ops.CreateIndexOp):
        where = f"{operation.index_name!r}, {operation.table_name!r}"
        retry = [f"        _drop_if_invalid({where})"]
        failed = [f"            _drop_if_invalid({where})", "            raise"]
        concurrent: ops.CreateIndexOp | ops.DropIndexOp = ops.CreateIndexOp(
            operation.index_name,
            operation.table_name,
            operation.columns,
            unique=operation.unique,
            if_not_exists=True,
            postgresql_concurrently=True,
        )
    else:
        concurrent = ops.DropIndexOp(
            operation.index_name,
            operation.table_name,
            if_exists=True,
            postgresql_concurrently=True,
        )
    built = _operation(concurrent)
    if failed:  # a failed build leaves an invalid index behind: it goes with the failure
        built = [
            "try:",
            *[f"    {line}" for line in built],
            "except Exception:",
            *[line[8:] for line in failed],
        ]
    other = _operation(operation)
    if item.mysql_keeps:
        other = [
            "# MariaDB keeps this index: a reference on its columns needs one.",
            'if op.get_bind().dialect.name != "mysql":',
            *[f"    {line}" for line in other],
        ]
    return [
        "# An index on a table that may hold rows: built without locking writes on PostgreSQL.",
        'if op.get_bind().dialect.name == "postgresql":',
        "    with op.get_context().autocommit_block():",
        *retry,
        *[f"        {line}" for line in built],
        "else:",
        *[f"    {line}" for line in other],
    ]


def _kept(item: Kept) -> list[str]:
    return [
        "# MariaDB keeps this index: a reference on its columns needs one.",
        'if op.get_bind().dialect.name != "mysql":',
        *[f"    {line}" for line in _operation(item.operation)],
    ]


_DROP_IF_INVALID = '''

def _drop_if_invalid(index: str, table: str) -> None:
    """A CONCURRENTLY build that failed leaves an invalid index of its name: drop it first."""
    invalid = sa.text(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = :index AND NOT i.indisvalid"
    )
    if op.get_bind().execute(invalid, {"index": index}).first() is not None:
        op.drop_index(index, table_name=table, postgresql_concurrently=True)
'''

_NUMBERED = '''

def _numbered() -> bool | None:
    """MariaDB restates a column it alters, so a numbered key says its numbering again."""
    return True if op.get_bind().dialect.name == "mysql" else None
'''


def _body(items: list[Item]) -> str:
    lines: list[str] = []
    for item in items:
        if isinstance(item, Code):
            lines.extend(item.lines)
        elif isinstance(item, Concurrent):
            lines.extend(_concurrent(item))
        elif isinstance(item, Kept):
            lines.extend(_kept(item))
        else:
            lines.extend(_operation(item))
    if not lines:
        lines = ["pass"]
    return "\n".join(f"    {line}" if line else "" for line in lines)


def render(
    plan: Plan,
    *,
    revision: str,
    down_revision: str | None,
    message: str,
    schema: Snapshot,
) -> str:
    """The text of the revision file."""
    after = f"after {down_revision}" if down_revision else "the first revision"
    steps = "\n".join(f"- {step}" for step in plan.steps)
    risks = "".join(f"\n- {risk}" for risk in plan.risks)
    risk_text = f"\n\nRisks, planned with --allow-destructive:{risks}" if risks else ""
    snapshot = pprint.pformat(schema, width=96, sort_dicts=False)
    upgrade, downgrade = _body(plan.upgrade), _body(plan.downgrade)
    helper = (
        _DROP_IF_INVALID
        if any(
            isinstance(i, Concurrent) and isinstance(i.operation, ops.CreateIndexOp)
            for i in plan.upgrade
        )
        else ""
    )
    if f"={Numbered()!r}" in upgrade + downgrade:
        helper += _NUMBERED
    return f'''"""{message}

Revision {revision}, {after}. Planned by backsmith from the contract:
{steps}{risk_text}
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
{helper}

# The schema after this revision: backsmith plans the next migration as the difference
# between it and the contract. If you change what upgrade() does, change this to match.
SCHEMA = {snapshot}
'''
