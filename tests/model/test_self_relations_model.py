"""Tables linked to themselves, two references to one table, and lists scoped to the caller,
as the model understands them: relation names per direction, declared names, the errors a
name fitting two relations gives (with `check`'s exit code), and `where` declarations.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runs import run
from conftest import FIXTURES
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.model.relations import RelationGraph, is_join_table
from backsmith.model.types import Kind

SOCIAL = FIXTURES / "relations" / "social.yaml"

DBML = """\
Table users {
  id integer [pk, increment]
  username varchar(40) [not null, unique]
}
Table follows {
  follower_id integer [not null]
  followed_id integer [not null]
  indexes {
    (follower_id, followed_id) [pk]
    followed_id
  }
}
Table messages {
  id integer [pk, increment]
  sender_id integer [not null]
  recipient_id integer [not null]
  body text [not null]
  indexes {
    sender_id
    recipient_id
  }
}
Ref: follows.follower_id > users.id
Ref: follows.followed_id > users.id
Ref: messages.sender_id > users.id
Ref: messages.recipient_id > users.id
"""

USER_PATHS = """\
  /users:
    get:
      operationId: listUsers
      parameters:
        - name: fan
          in: query
          schema: {type: string}
          x-backsmith: {filter: followers.username}
      responses:
        '200':
          description: Users.
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/User'}}
  /users/{username}/follow:
    post:
      operationId: followUser
      x-backsmith: {link: followers}
      security: [{bearer: []}]
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}}
      responses:
        '204': {description: Followed.}
  /messages:
    get:
      operationId: inbox
      x-backsmith: {where: recipient_id = caller}
      security: [{bearer: []}]
      responses:
        '200':
          description: The caller's messages.
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Message'}}
"""

USER_SCHEMAS = """\
    User:
      type: object
      properties:
        username: {type: string}
        followersCount: {type: integer, readOnly: true}
        followedCount: {type: integer, readOnly: true}
        following: {type: boolean, readOnly: true, x-backsmith: {exists: followers}}
    Message:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        body: {type: string}
"""


def contract(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """The users contract, with one piece of its text replaced."""
    write(tmp_path, "schema.dbml", DBML)
    text = (
        "openapi: 3.1.0\n"
        "info: {title: T, version: '1'}\n"
        "x-backsmith: {dbml: schema.dbml}\n"
        "components:\n"
        "  securitySchemes:\n"
        "    bearer: {type: http, scheme: bearer}\n"
        f"  schemas:\n{USER_SCHEMAS}"
        f"paths:\n{USER_PATHS}"
    )
    assert old in text
    return write(tmp_path, "api.yaml", text.replace(old, new, 1))


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


# -------------------------------------------------------------------------- the graph


def test_a_table_linked_to_itself_has_one_relation_per_direction() -> None:
    model = load_model(SOCIAL)
    assert is_join_table(model.resources["follows"])
    graph = RelationGraph(model.resources)
    followers = graph.find("customers", "followers")
    assert followers is not None and followers.kind == "through"
    # a customer's followers: the follows rows naming it followed, ending at the follower
    assert (followers.join_source, followers.join_target) == (("followed_id",), ("follower_id",))
    followed = graph.find("customers", "followed")
    assert followed is not None
    assert (followed.join_source, followed.join_target) == (("follower_id",), ("followed_id",))
    assert graph.reverse(followers) == followed and graph.reverse(followed) == followers
    assert graph.find("customers", "follows") is None  # the rows of either direction
    assert graph.names("customers", to_many=True) == ["books", "followed", "followers"]
    explained = graph.explain("customers", "follows")
    assert explained is not None
    assert "follows.follower_id and follows.followed_id" in explained
    assert (
        "'followed' (by follows.follower_id) or 'followers' (by follows.followed_id)" in explained
    )


def test_the_model_says_which_direction_each_part_takes() -> None:
    model = load_model(SOCIAL)
    ops = {op.operation_id: op for op in model.operations}
    assert ops["followCustomer"].kind == Kind.LINK
    assert ops["followCustomer"].link is not None
    assert ops["followCustomer"].link.target_columns == ("followed_id",)
    assert ops["followCustomer"].link_caller == "follower_id"
    assert ops["unfollowCustomer"].kind == Kind.UNLINK
    shape = ops["getCustomer"].response.shape  # type: ignore[union-attr]
    assert shape is not None
    described = {m.name: m.computed.describe() for m in shape.members if m.computed}
    assert described == {
        "followersCount": "count(follows by followed_id)",
        "followedCount": "count(follows by follower_id)",
        "following": "exists(follows by followed_id where follower_id = caller)",
        "followsYou": "exists(follows by follower_id where followed_id = caller)",
    }
    scope = ops["feed"].caller_scope
    assert scope is not None
    assert [h.names[0] for h in scope.hops] == ["author", "followers"]
    assert scope.column == "id"  # followers.follower_id is the follower's key


def test_model_cli_shows_directions_and_the_feed_scope(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "model", SOCIAL)
    assert code == 0
    notes = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "follows(followed.handle), followedBy(followers.handle)" in notes["listCustomers"]
    assert "scope handle->followed.handle" in notes["listFollowers"]
    assert "scope handle->followers.handle" in notes["listFollowed"]
    assert "link follows for the caller (follower_id)" in notes["followCustomer"]
    assert "where author.followers.id = caller" in notes["feed"]


# ----------------------------------------------------------------- ambiguous names

AMBIGUOUS_FOLLOWS = [
    "'follows' from users is ambiguous: it fits follows.follower_id and follows.followed_id",
    "write 'followed' (by follows.follower_id) or 'followers' (by follows.followed_id)",
    "or declare one on schema User with x-backsmith: {relations: {<name>: follows.<column>}}",
]


@pytest.mark.parametrize(
    ("old", "new", "pointer", "words"),
    [
        pytest.param(
            "{exists: followers}",
            "{exists: follows}",
            "#/components/schemas/User/properties/following/x-backsmith/exists",
            AMBIGUOUS_FOLLOWS,
            id="exists",
        ),
        pytest.param(
            "followedCount: {type: integer, readOnly: true}",
            "followedCount: {type: integer, readOnly: true, x-backsmith: {count: follows}}",
            "#/components/schemas/User/properties/followedCount/x-backsmith/count",
            AMBIGUOUS_FOLLOWS,
            id="count",
        ),
        pytest.param(
            "{filter: followers.username}",
            "{filter: follows.username}",
            "#/paths/~1users/get/parameters/0/x-backsmith/filter",
            AMBIGUOUS_FOLLOWS,
            id="filter",
        ),
        pytest.param(
            "{link: followers}",
            "{link: follows}",
            "#/paths/~1users~1{username}~1follow/post/x-backsmith/link",
            [*AMBIGUOUS_FOLLOWS, "(a link puts the path's row in that column)"],
            id="link",
        ),
        pytest.param(
            "followedCount: {type: integer, readOnly: true}",
            "sent: {type: integer, readOnly: true, x-backsmith: {count: messages}}",
            "#/components/schemas/User/properties/sent/x-backsmith/count",
            [
                "'messages' from users is ambiguous: it fits messages.sender_id and "
                "messages.recipient_id; declare one on schema User with x-backsmith: "
                "{relations: {<name>: messages.<column>}}"
            ],
            id="two-references-back",
        ),
        pytest.param(
            "body: {type: string}",
            "body: {type: string}\n"
            "        from: {type: string, x-backsmith: {embed: user.username}}",
            "#/components/schemas/Message/properties/from/x-backsmith/embed",
            [
                "'user' from messages is ambiguous: it fits messages.sender_id and "
                "messages.recipient_id; write 'sender' (by messages.sender_id) or 'recipient' "
                "(by messages.recipient_id)"
            ],
            id="two-references-out",
        ),
        pytest.param(
            "{exists: followers}",
            "{exists: fans}",
            "#/components/schemas/User/properties/following/x-backsmith/exists",
            ["'fans' names no to-many relation of users (e.g. followed, followers)"],
            id="names-nothing-lists-only-names-that-resolve",
        ),
    ],
)
def test_a_name_fitting_two_relations_says_which_columns_and_how_to_name_one(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    pointer: str,
    words: list[str],
) -> None:
    path = contract(tmp_path, old, new)
    with pytest.raises(ContractError) as caught:
        load_model(path)
    rendered = [issue.render() for issue in caught.value.issues]
    assert len(rendered) == 1, rendered
    line = line_of(path, new.splitlines()[-1])
    assert rendered[0].startswith(f"{path}:{line}: error at {pointer}: "), rendered[0]
    for word in words:
        assert word in rendered[0]
    assert ("names no" in rendered[0]) == ("names no" in words[0])

    code, out, err = run(capsys, "check", path)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [rendered[0]]  # the one line, and nothing else
    assert "Traceback" not in err


def test_the_valid_users_contract_loads(tmp_path: Path) -> None:
    """The base of the broken contracts above: each error comes from its one change."""
    model = load_model(contract(tmp_path))
    ops = {op.operation_id: op for op in model.operations}
    assert ops["followUser"].kind == Kind.LINK and ops["followUser"].link_caller == "follower_id"
    inbox = ops["inbox"].caller_scope
    assert inbox is not None and (inbox.column, inbox.hops) == ("recipient_id", ())


# ------------------------------------------------------------- declared names


def test_declared_relation_names_reach_what_conventions_cannot_tell_apart(
    tmp_path: Path,
) -> None:
    path = contract(
        tmp_path,
        "    User:\n      type: object\n      properties:\n",
        "    User:\n"
        "      type: object\n"
        "      x-backsmith:\n"
        "        relations: {fans: follows.followed_id, sent: messages.sender_id}\n"
        "      properties:\n"
        "        fansCount: {type: integer, readOnly: true}\n"
        "        sentCount: {type: integer, readOnly: true}\n"
        "        outbox: {type: array, items: {$ref: '#/components/schemas/Message'}}\n"
        "        fans:\n"
        "          type: array\n"
        "          items: {type: object, properties: {username: {type: string}}}\n",
    )
    model = load_model(path)
    read = next(op for op in model.operations if op.operation_id == "listUsers")
    shape = read.response.shape  # type: ignore[union-attr]
    assert shape is not None
    members = {m.name: m for m in shape.members}
    fans = members["fansCount"].computed
    assert fans is not None and fans.hop.join_source == ("followed_id",)
    sent = members["sentCount"].computed
    assert sent is not None and (sent.hop.target, sent.hop.target_columns) == (
        "messages",
        ("sender_id",),
    )
    assert members["fans"].hop is not None and members["fans"].hop.target == "users"
    assert members["fans"].hop.join_source == ("followed_id",)
    # the message rows: a relation named `outbox` is not declared, so nothing fills it
    assert "outbox" not in members


@pytest.mark.parametrize(
    ("declared", "pointer", "words"),
    [
        pytest.param(
            "{fans: follows.nothing}",
            "#/components/schemas/User/x-backsmith/relations/fans",
            [
                "relation 'fans': follows.nothing does not refer to users",
                "(these do: follows.follower_id, follows.followed_id)",
            ],
            id="column-not-a-reference",
        ),
        pytest.param(
            "{fans: follows}",
            "#/components/schemas/User/x-backsmith/relations/fans",
            ["relation 'fans': 'follows' must be <table>.<column>, a column referring to users"],
            id="no-column",
        ),
        pytest.param(
            "{fans: 3}",
            "#/components/schemas/User/x-backsmith/relations/fans",
            ["a relation is named by <table>.<column>"],
            id="not-text",
        ),
    ],
)
def test_bad_relation_names_point_at_their_declaration(
    tmp_path: Path, declared: str, pointer: str, words: list[str]
) -> None:
    new = f"    User:\n      type: object\n      x-backsmith: {{relations: {declared}}}\n"
    path = contract(tmp_path, "    User:\n      type: object\n", new)
    with pytest.raises(ContractError) as caught:
        load_model(path)
    rendered = [issue.render() for issue in caught.value.issues]
    assert len(rendered) == 1, rendered
    assert rendered[0].startswith(f"{path}:{line_of(path, 'relations:')}: error at {pointer}: ")
    for word in words:
        assert word in rendered[0]


# -------------------------------------------------------------------- where


@pytest.mark.parametrize(
    ("old", "new", "pointer", "words"),
    [
        pytest.param(
            "{where: recipient_id = caller}",
            "{where: recipient_id == caller}",
            "#/paths/~1messages/get/x-backsmith/where",
            ["where 'recipient_id == caller' must read <column or relation path> = caller"],
            id="not-a-condition",
        ),
        pytest.param(
            "{where: recipient_id = caller}",
            "{where: reader.id = caller}",
            "#/paths/~1messages/get/x-backsmith/where",
            ["'reader.id' names no column of messages and no relation path", "recipient"],
            id="names-nothing",
        ),
        pytest.param(
            "{where: recipient_id = caller}",
            "{where: user.id = caller}",
            "#/paths/~1messages/get/x-backsmith/where",
            ["'user' from messages is ambiguous", "write 'sender'"],
            id="ambiguous",
        ),
        pytest.param(
            "{link: followers}",
            "{link: followers, where: username = caller}",
            "#/paths/~1users~1{username}~1follow/post/x-backsmith/where",
            ["where scopes list operations only"],
            id="not-a-list",
        ),
    ],
)
def test_where_declarations_that_name_no_scope_are_contract_errors(
    tmp_path: Path, old: str, new: str, pointer: str, words: list[str]
) -> None:
    path = contract(tmp_path, old, new)
    with pytest.raises(ContractError) as caught:
        load_model(path)
    rendered = [issue.render() for issue in caught.value.issues]
    assert len(rendered) == 1, rendered
    assert rendered[0].startswith(f"{path}:{line_of(path, new)}: error at {pointer}: "), rendered
    for word in words:
        assert word in rendered[0]
