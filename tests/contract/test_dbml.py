"""`parse_dbml`: tables, columns, indexes, refs and enums; lifted checks; errors with lines.

Most tests parse small inline DBML strings; one reads the bench workload schema, and one
reads a Markdown spec whose DBML blocks start below the top of the file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import CORPUS, SHARED, needs_shared

from backsmith.contract.dbml import DbmlColumn, DbmlIndex, DbmlModel, DbmlRef, parse_dbml
from backsmith.contract.load import DbmlSource, load_contract
from backsmith.errors import ContractError

BENCH_DBML = SHARED / "bench" / "workload" / "schema.dbml"

SHOP = """\
Enum order_status {
  pending
  shipped [note: 'left the warehouse']
  "cancelled"
}

Table authors {
  id integer [pk, increment]
  name varchar(200) [not null, unique]
  born date
  tags "text[]" [default: `'{}'`]
  rating int [default: 3]
  nick varchar [default: 'anon']
  active bool [default: true]
  score float [default: 1.5]
  created_at timestamptz [not null, default: `now()`, note: 'server-set']
}

Table orders {
  id uuid [pk]
  author_id integer [ref: > authors.id]
  status order_status [not null, default: 'pending']
  qty int [check: `qty > 0`, not null]

  indexes {
    (author_id, status) [unique, name: 'orders_author_status']
    status
  }
}

Table lines {
  order_id uuid
  n int

  indexes {
    (order_id, n) [pk]
  }
}

Ref: orders.id < lines.order_id [delete: cascade]
Ref fk2: orders.author_id > authors.id [delete: set null, update: no action]
"""


def parse(text: str, file: str = "schema.dbml", first_line: int = 1) -> DbmlModel:
    return parse_dbml(DbmlSource(textwrap.dedent(text), file, first_line))


def column(model: DbmlModel, table: str, name: str) -> DbmlColumn:
    found = model.table(table)
    assert found is not None, f"no table {table}"
    result = found.column(name)
    assert result is not None, f"no column {table}.{name}"
    return result


@pytest.fixture(scope="module")
def shop() -> DbmlModel:
    return parse(SHOP, "shop.dbml")


def test_tables_in_order(shop: DbmlModel) -> None:
    assert [t.name for t in shop.tables] == ["authors", "orders", "lines"]
    assert shop.file == "shop.dbml"
    assert shop.table("nope") is None


def test_column_types(shop: DbmlModel) -> None:
    authors = shop.table("authors")
    assert authors is not None
    assert [(c.name, c.type) for c in authors.columns] == [
        ("id", "integer"),
        ("name", "varchar(200)"),
        ("born", "date"),
        ("tags", "text[]"),
        ("rating", "int"),
        ("nick", "varchar"),
        ("active", "bool"),
        ("score", "float"),
        ("created_at", "timestamptz"),
    ]


def test_primary_key_increment_unique_not_null(shop: DbmlModel) -> None:
    key = column(shop, "authors", "id")
    assert key.primary_key and key.increment
    assert key.not_null  # a primary key is never NULL, declared or not
    name = column(shop, "authors", "name")
    assert name.unique and name.not_null and not name.primary_key and not name.increment
    born = column(shop, "authors", "born")
    assert not (born.unique or born.not_null or born.primary_key)
    uuid_key = column(shop, "orders", "id")
    assert uuid_key.primary_key and not uuid_key.increment


def test_defaults_sql_expression_versus_literal(shop: DbmlModel) -> None:
    created = column(shop, "authors", "created_at")
    assert (created.default, created.default_is_sql) == ("now()", True)
    tags = column(shop, "authors", "tags")
    assert (tags.default, tags.default_is_sql) == ("'{}'", True)
    names = ("rating", "nick", "active", "score")
    literals = {name: column(shop, "authors", name).default for name in names}
    assert literals == {"rating": 3, "nick": "anon", "active": True, "score": 1.5}
    assert not any(column(shop, "authors", name).default_is_sql for name in literals)
    born = column(shop, "authors", "born")
    assert (born.default, born.default_is_sql) == (None, False)


def test_column_notes(shop: DbmlModel) -> None:
    assert column(shop, "authors", "created_at").note == "server-set"
    assert column(shop, "authors", "born").note == ""


def test_indexes(shop: DbmlModel) -> None:
    orders = shop.table("orders")
    lines = shop.table("lines")
    assert orders is not None and lines is not None
    assert orders.indexes == (
        DbmlIndex(("author_id", "status"), unique=True, name="orders_author_status"),
        DbmlIndex(("status",)),
    )
    assert lines.indexes == (DbmlIndex(("order_id", "n"), primary_key=True),)


def test_refs_with_direction_and_actions(shop: DbmlModel) -> None:
    assert set(shop.refs) == {
        # inline `ref: > authors.id`: orders.author_id is the many side
        DbmlRef("orders", ("author_id",), "authors", ("id",)),
        # `orders.id < lines.order_id`: written one side first, lines is still the many side
        DbmlRef("lines", ("order_id",), "orders", ("id",), on_delete="cascade"),
        DbmlRef(
            "orders",
            ("author_id",),
            "authors",
            ("id",),
            on_delete="set null",
            on_update="no action",
        ),
    }


def test_many_to_many_refs_are_skipped() -> None:
    model = parse(
        """\
        Table a {
          id int [pk]
        }
        Table b {
          id int [pk]
        }
        Ref: a.id <> b.id
        """
    )
    assert model.refs == ()


def test_one_to_one_ref_keeps_its_written_order() -> None:
    model = parse(
        """\
        Table users {
          id int [pk]
        }
        Table profiles {
          user_id int [pk, ref: - users.id]
        }
        """
    )
    assert model.refs == (DbmlRef("profiles", ("user_id",), "users", ("id",)),)


def test_enums_and_enum_columns(shop: DbmlModel) -> None:
    assert shop.enums == {"order_status": ("pending", "shipped", "cancelled")}
    status = column(shop, "orders", "status")
    assert (status.type, status.enum) == ("order_status", "order_status")
    assert (status.default, status.default_is_sql, status.not_null) == ("pending", False, True)
    assert column(shop, "orders", "qty").enum is None


def test_column_check_settings_are_lifted_into_checks(shop: DbmlModel) -> None:
    orders = shop.table("orders")
    assert orders is not None
    assert orders.checks == ("qty > 0",)
    qty = column(shop, "orders", "qty")
    assert qty.not_null and qty.type == "int"  # the other settings survive the cut


@pytest.mark.parametrize(
    "settings",
    ["[check: `n > 0`]", "[not null, check: `n > 0`]", "[check: `n > 0`, not null]"],
)
def test_check_setting_anywhere_in_the_settings(settings: str) -> None:
    model = parse(f"Table t {{\n  id int [pk]\n  n int {settings}\n}}\n")
    table = model.table("t")
    assert table is not None
    assert table.checks == ("n > 0",)
    assert column(model, "t", "n").not_null == ("not null" in settings)


def test_checks_blocks_are_kept_as_checks() -> None:
    model = parse(
        """\
        Table stock {
          id int [pk]
          qty int [check: `qty >= 0`]
          reserved int

          checks {
            `reserved <= qty` [name: 'reserved_within_qty']
            `qty < 100000`
          }
        }

        Table other {
          id int [pk]
        }
        """
    )
    stock = model.table("stock")
    other = model.table("other")
    assert stock is not None and other is not None
    assert stock.checks == ("qty >= 0", "reserved <= qty", "qty < 100000")
    assert other.checks == ()


def test_records_blocks_are_lifted_out_and_are_not_checks() -> None:
    model = parse(
        """\
        Table users {
          id int [pk]
          created_at timestamp

          records {
            1, `now()`
          }
        }

        Table posts {
          id int [pk]
          user_id int [ref: > users.id]
        }

        Records users(id, created_at) {
          2, `now()`
          3, '2024-01-01'
        }
        """
    )
    assert [t.name for t in model.tables] == ["users", "posts"]
    assert all(t.checks == () for t in model.tables), [(t.name, t.checks) for t in model.tables]


@pytest.mark.parametrize("name", ["records", "checks"])
def test_columns_named_like_blocks_are_columns(name: str) -> None:
    model = parse(
        f"""\
        Table audits {{
          id int [pk]
          {name} jsonb [not null, default: `'{{}}'`]
          label text
        }}
        """
    )
    audits = model.table("audits")
    assert audits is not None
    assert [c.name for c in audits.columns] == ["id", name, "label"]


def test_table_notes_and_schema_qualified_names() -> None:
    model = parse(
        """\
        Table public.books {
          id int [pk]
          Note: 'all the books'
        }
        """
    )
    [books] = model.tables
    assert books.name == "books"
    assert books.note == "all the books"


@needs_shared
def test_bench_workload_schema() -> None:
    model = parse_dbml(DbmlSource(BENCH_DBML.read_text(encoding="utf-8"), str(BENCH_DBML)))
    [products] = model.tables
    assert products.name == "products"
    assert [c.name for c in products.columns] == [
        "id",
        "sku",
        "name",
        "price_cents",
        "category",
        "tags",
        "created_at",
        "updated_at",
    ]
    key = column(model, "products", "id")
    assert (key.type, key.primary_key, key.default, key.default_is_sql) == (
        "uuid",
        True,
        "gen_random_uuid()",
        True,
    )
    sku = column(model, "products", "sku")
    assert (sku.type, sku.unique, sku.not_null) == ("varchar(64)", True, True)
    assert sku.note == "1-64 chars"
    tags = column(model, "products", "tags")
    assert (tags.type, tags.not_null, tags.default, tags.default_is_sql) == (
        "text[]",
        True,
        "'{}'",
        True,
    )
    assert column(model, "products", "category").type == "text"
    assert column(model, "products", "updated_at").default == "now()"
    assert products.checks == (
        "char_length(sku) >= 1",
        "char_length(name) >= 1",
        "price_cents >= 0",
        "category IN ('electronics','books','clothing','home','garden','toys','sports','grocery')",
        "cardinality(tags) <= 10",
    )
    assert products.indexes == (
        DbmlIndex(("category", "created_at", "id"), name="products_category_created_at_id_idx"),
        DbmlIndex(("created_at", "id"), name="products_created_at_id_idx"),
    )
    assert products.note.startswith("Seeded with 100,000 rows")
    assert model.refs == () and model.enums == {}


@needs_shared
def test_corpus_records_file_parses_without_checks() -> None:
    path = CORPUS / "dbml" / "edge-cases" / "insert_records.in.dbml"
    model = parse_dbml(DbmlSource(path.read_text(encoding="utf-8"), str(path)))
    assert [t.name for t in model.tables] == ["users", "posts"]
    assert model.refs == (DbmlRef("posts", ("user_id",), "users", ("id",)),)
    assert all(t.checks == () for t in model.tables)


# ----------------------------------------------------------------------------- errors


def test_table_partial_is_refused_naming_the_line() -> None:
    text = "Table a {\n  id int [pk]\n}\n\nTablePartial base {\n  x int\n}\n"
    with pytest.raises(ContractError) as caught:
        parse_dbml(DbmlSource(text, "schema.dbml"))
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == ("schema.dbml", 5)
    assert "TablePartial is not supported" in issue.message


def test_table_partial_line_counts_from_first_line() -> None:
    text = "Table a {\n  id int [pk]\n}\nTablePartial base {\n  x int\n}\n"
    with pytest.raises(ContractError) as caught:
        parse_dbml(DbmlSource(text, "spec.md", first_line=30))
    assert caught.value.issues[0].line == 33


@needs_shared
def test_corpus_table_partial_file_is_refused() -> None:
    path = CORPUS / "dbml" / "edge-cases" / "table_partial.in.dbml"
    text = path.read_text(encoding="utf-8")
    expected = next(
        n for n, line in enumerate(text.splitlines(), 1) if line.startswith("TablePartial")
    )
    with pytest.raises(ContractError) as caught:
        parse_dbml(DbmlSource(text, str(path)))
    assert (caught.value.issues[0].file, caught.value.issues[0].line) == (str(path), expected)


def test_syntax_error_reports_file_and_line() -> None:
    text = "Table a {\n  id int [pk]\n}\n\nTable b {\n  id int [pk,]]\n}\n"
    with pytest.raises(ContractError) as caught:
        parse_dbml(DbmlSource(text, "schema.dbml"))
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == ("schema.dbml", 6)
    assert issue.message.startswith("DBML syntax error")
    assert issue.render().startswith("schema.dbml:6: error: DBML syntax error")


def test_syntax_error_line_counts_from_first_line() -> None:
    text = "Table a {\n  id int [pk]\n}\n\nTable b {\n  id int [pk,]]\n}\n"
    with pytest.raises(ContractError) as caught:
        parse_dbml(DbmlSource(text, "spec.md", first_line=40))
    assert caught.value.issues[0].line == 45


OPENAPI_BLOCK = """\
# Spec

```yaml
openapi: 3.1.0
info: {title: T, version: "1"}
paths: {}
```

The model:

"""


def test_syntax_error_in_markdown_dbml_block_points_into_the_markdown(tmp_path: Path) -> None:
    path = tmp_path / "spec.md"
    path.write_text(
        OPENAPI_BLOCK
        + "```dbml\nTable a {\n  id int [pk]\n}\n\nTable b {\n  id int [pk,]]\n}\n```\n",
        encoding="utf-8",
    )
    contract = load_contract(path)
    assert contract.dbml is not None and contract.dbml.first_line == 12
    with pytest.raises(ContractError) as caught:
        parse_dbml(contract.dbml)
    [issue] = caught.value.issues
    bad_line = path.read_text().splitlines().index("  id int [pk,]]") + 1
    assert (issue.file, issue.line) == (str(path), bad_line)


def test_syntax_error_in_second_markdown_dbml_block_points_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.md"
    path.write_text(
        OPENAPI_BLOCK + "```dbml\nTable a {\n  id int [pk]\n}\n```\n\nProse between the blocks.\n"
        "More prose.\n\n```dbml\nTable b {\n  id int [pk,]]\n}\n```\n",
        encoding="utf-8",
    )
    contract = load_contract(path)
    assert contract.dbml is not None
    with pytest.raises(ContractError) as caught:
        parse_dbml(contract.dbml)
    bad_line = path.read_text().splitlines().index("  id int [pk,]]") + 1
    assert caught.value.issues[0].line == bad_line


def test_markdown_dbml_blocks_form_one_model(tmp_path: Path) -> None:
    path = tmp_path / "spec.md"
    path.write_text(
        OPENAPI_BLOCK + "```dbml\nTable a {\n  id int [pk]\n}\n```\n\nMore.\n\n"
        "```dbml\nTable b {\n  id int [pk]\n  a_id int [ref: > a.id]\n}\n```\n",
        encoding="utf-8",
    )
    contract = load_contract(path)
    assert contract.dbml is not None
    model = parse_dbml(contract.dbml)
    assert [t.name for t in model.tables] == ["a", "b"]
    assert model.refs == (DbmlRef("b", ("a_id",), "a", ("id",)),)
