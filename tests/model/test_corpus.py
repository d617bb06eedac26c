"""The shared corpus of real-world contracts: each is mapped, or refused with one-line issues.

Every file under `../shared/corpus/openapi/`, every Markdown spec in `markdown/` and every
contract in `paired/` (alone, and with its project's DBML) goes through
`backsmith.api.load_model`. The only acceptable failure is a `ContractError` whose issues each
render to one line naming the file; any other exception is a crash. The counting lives in
`scripts/corpus_survey.py` (run it for the same table); this module imports it, so the test
and the human-readable survey share one implementation.

The expectations below record today's behaviour: which files are refused and why, and lower
bounds on what is mapped to CRUD, so that a regression in the loader or the mapper shows up
as a named file.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from types import ModuleType
from typing import Any

import pytest
from conftest import CORPUS, ROOT

from backsmith.model.custom_reasons import Cause, cause_of
from backsmith.model.types import Kind


def _import_survey() -> ModuleType:
    """Import scripts/corpus_survey.py, which is a script and not part of the package."""
    path = ROOT / "scripts" / "corpus_survey.py"
    spec = importlib.util.spec_from_file_location("corpus_survey", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


survey = _import_survey()

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")

ENTRIES = survey.corpus_entries(CORPUS) if CORPUS.is_dir() else []

# Refusals and their category. Each is a defect of the file as published (see SOURCES.md),
# or a feature backsmith does not have (remote refs). Swagger 2.0 files are converted to
# OpenAPI 3.0 and load unless listed here. (surevoip.co.uk, listed in SOURCES.md as invalid,
# is valid read as YAML 1.2, as OpenAPI says: its `yes` and `no` are words, not booleans.)
EXPECTED_REFUSALS = {
    "openapi/apis-guru/billingo.hu__default.yaml": "invalid OpenAPI",
    # Blob requires 'key' but declares 'blob_key': no request could create a blob.
    "openapi/apis-guru/intellifi.nl__default.yaml": "required property not declared",
    # Swagger 2.0: ListenerCreate requires 'listener_key' and 'host' and SharedRulesCreate
    # 'name', none of them under its properties, in the file as published.
    "openapi/apis-guru/turbinelabs.io__default.yaml": "required property not declared",
    "openapi/oas31/oas-spec-tests__json_schema_dialect.yaml": "invalid OpenAPI",
    "openapi/oas31/oas-spec-tests__path_item_servers_parameters.yaml": "invalid OpenAPI",
    "openapi/oas31/oas-spec-tests__security-scheme-object-examples.yaml": "remote $ref",
    "openapi/oas31/swagger-petstore-31.yaml": "invalid OpenAPI",  # its $id refs resolve
}

# Lower bounds on operations mapped to CRUD (today's counts).
MIN_CRUD = {
    "openapi/petstore3.yaml": 12,
    "openapi/train-travel.yaml": 5,
    "openapi/oas31/redocly-museum.yaml": 6,
    "openapi/apis-guru/readme.io__default.json": 16,
    # A POST whose body is a plain string needs a handler (it was taken for a create);
    # DELETE /{id} and a collaborator's delete answer 204 only, their neighbours name stories.
    "openapi/apis-guru/presalytics.io__story.yaml": 16,
    # /v1/projects/{project} addresses projects by a string their schema never names (the
    # table's key is made up): get, update and delete need a declaration, not a wrong 422.
    "openapi/apis-guru/apigee.local__registry.yaml": 2,
    "openapi/apis-guru/1password.local__connect.yaml": 10,  # vault: {id} is a reference
    # rule_response, a oneOf of rule kinds, is one table; app_response names apps; DELETE
    # /apps/{id} and a queue's delete answer 204 only, and their neighbours say the table.
    "openapi/apis-guru/ably.net__control.yaml": 19,
    # TaskList at /users/@me/lists and Task in {items, nextPageToken} envelopes.
    "openapi/apis-guru/googleapis.com__tasks.json": 12,
    # EpisodeFull, PodcastFull/Simple at /episodes, /podcasts; {podcasts, has_next} pages.
    "openapi/oas31/apisguru-via-schemathesis__listennotes.com.json": 9,
    "openapi/apis-guru/izettle.com__products.yaml": 4,  # TaxRate at /taxes/{taxRateUuid}
    "paired/bna-api/openapi-3.0.yaml": 14,
    "paired/bna-api/openapi-3.1.yaml": 14,
    "paired/bna-api/openapi-3.0.yaml+database.dbml": 10,
    "paired/bna-api/openapi-3.1.yaml+database.dbml": 10,
    # Inline schemas only: tables inferred from collection/item path pairs (model/inline.py).
    "openapi/apis-guru/enode.io__default.yaml": 9,
    "openapi/apis-guru/nexmo.com__conversation.json": 18,
    # /posts.json, /posts/{id}.json...: format suffixes, over inline schemas too.
    "openapi/oas31/apisguru-via-schemathesis__discourse.local.json": 24,
    # Swagger 2.0, converted.
    "openapi/apis-guru/netlify.com__default.yaml": 71,
    "openapi/apis-guru/uebermaps.com__default.json": 43,
    "openapi/apis-guru/powerdns.local__default.json": 26,
    "openapi/apis-guru/launchdarkly.com__default.yaml": 23,
}

# Lower bounds on the whole corpus (today's counts; intellifi, refused for a schema no
# request can satisfy, took 77 operations, 55 of them CRUD, and 15 resources with it).
MIN_TOTALS = {"files": 62, "loaded": 55, "operations": 1324, "crud": 473, "resources": 286}
MIN_KINDS = {"list": 161, "create": 89, "read": 93, "replace": 46, "update": 20, "delete": 64}
KNOWN_REASONS = {category for category, _ in survey.REASONS}

_SWAGGER_KEY = re.compile(r'^\s*"?swagger"?\s*:', re.MULTILINE)


@functools.cache
def outcome_of(entry: Any) -> Any:
    """Each entry is loaded once per test session, however many tests look at it."""
    return survey.survey_entry(entry)


def is_swagger(entry: Any) -> bool:
    head = entry.contract.read_text(encoding="utf-8", errors="replace")[:400]
    return bool(_SWAGGER_KEY.search(head))


def by_label() -> dict[str, Any]:
    return {entry.label: entry for entry in ENTRIES}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.label for e in ENTRIES])
def test_contract_is_mapped_or_refused_with_one_line_issues(entry: Any) -> None:
    outcome = outcome_of(entry)
    assert outcome.status != survey.CRASHED, (
        f"{entry.label}: load_model raised something other than ContractError:\n{outcome.error}"
    )
    if outcome.status == survey.REFUSED:
        issues = outcome.issues
        assert issues, f"{entry.label}: a ContractError with no issues"
        files = {str(path) for path in entry.files}
        for issue in issues:
            rendered = issue.render()
            assert "\n" not in rendered and "\r" not in rendered, rendered
            assert issue.file in files, f"{rendered!r} does not name {sorted(files)}"
            assert rendered.startswith(issue.file), rendered
            assert issue.message.strip(), rendered
        assert outcome.message.split("\n") == [i.render() for i in issues]
        return
    model = outcome.model
    assert model is not None
    for op in model.operations:
        where = f"{entry.label}: {op.method} {op.path}"
        if op.kind == Kind.CUSTOM:
            assert op.reason, f"{where} is custom without a reason"
            continue
        assert op.resource in model.resources, f"{where} maps to unknown {op.resource!r}"
        assert op.response is not None, f"{where} is {op.kind} without a response"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.label for e in ENTRIES])
def test_contract_outcome_matches_todays_survey(entry: Any) -> None:
    """The listed broken files are refused for their reason; the rest load."""
    outcome = outcome_of(entry)
    label = entry.label
    expected = EXPECTED_REFUSALS.get(label)
    if expected is None:
        assert outcome.status == survey.LOADED, (
            f"{label} used to load; now {outcome.status}: "
            + "; ".join(i.render() for i in outcome.issues)
        )
        assert outcome.crud >= MIN_CRUD.get(label, 0), (
            f"{label} maps {outcome.crud} operations to CRUD, expected at least {MIN_CRUD[label]}"
        )
    else:
        assert outcome.status == survey.REFUSED, f"{label} should be refused ({expected})"
        assert expected in outcome.reasons, f"{label}: {outcome.reasons}, expected {expected}"


def test_expectations_name_existing_corpus_files() -> None:
    labels = by_label()
    stale = sorted(set(EXPECTED_REFUSALS) - set(labels)) + sorted(set(MIN_CRUD) - set(labels))
    assert not stale, f"expectations about files that are not in the corpus: {stale}"


def test_corpus_summary() -> None:
    """The survey's totals; run with -s to see the table."""
    outcomes = [outcome_of(entry) for entry in ENTRIES]
    print()
    print(survey.render(outcomes))
    summary = survey.summarize(outcomes)

    assert summary.crashed == 0, [o.entry.label for o in outcomes if o.status == survey.CRASHED]
    assert summary.files == len(ENTRIES) == summary.loaded + summary.refused
    for name, minimum in MIN_TOTALS.items():
        assert getattr(summary, name) >= minimum, f"{name}: {getattr(summary, name)} < {minimum}"
    for kind, minimum in MIN_KINDS.items():
        assert summary.kinds[kind] >= minimum, f"{kind}: {summary.kinds[kind]} < {minimum}"
    assert summary.crud + summary.custom == summary.operations

    unknown = sorted(set(summary.refusal_reasons) - KNOWN_REASONS)
    assert not unknown, f"refusals in no known category: {unknown}"
    swagger = [o for o in outcomes if is_swagger(o.entry)]
    assert len(swagger) >= 17
    assert sum(o.status == survey.LOADED for o in swagger) >= 16  # converted to OpenAPI 3.0
    # Every Markdown spec of the corpus is prose: each is drafted and loads, saying so.
    prose = [o for o in outcomes if o.entry.label.startswith("markdown/")]
    assert len(prose) == 5 and all(o.drafted is not None for o in prose)
    assert sum(o.drafted[0] for o in prose if o.drafted) == 108  # the hand count
    assert summary.refused == len(EXPECTED_REFUSALS)

    # Every operation that matched no table says why, by a cause a reader can act on.
    assert not [r for r in summary.custom_reasons if r.startswith("no resource")]
    assert set(summary.no_resource_causes) <= set(survey.NO_RESOURCE_CAUSES) - {"other"}
    for outcome in outcomes:
        for op in outcome.model.operations if outcome.model is not None else ():
            if (
                op.kind == Kind.CUSTOM
                and op.resource is None
                and not op.reason.startswith(("declared custom", "link"))
            ):
                assert cause_of(op.reason) is not None, (outcome.entry.label, op.path, op.reason)
                # One line, short but for the contract's own names it quotes (launchdarkly's
                # FeatureFlagScheduledChangesConflicts at /scheduled-changes-conflicts: 146).
                assert "\n" not in op.reason and len(op.reason) <= 160, op.reason

    petstore = next(o for o in outcomes if o.entry.label == "openapi/petstore3.yaml")
    assert petstore.crud >= 10
    assert set(petstore.model.resources) >= {"pets", "orders", "users"}


def _operations(label: str) -> dict[str, Any]:
    """`METHOD /path` -> operation, for one corpus entry that loads."""
    outcome = outcome_of(by_label()[label])
    assert outcome.model is not None, outcome.message
    return {f"{op.method} {op.path}": op for op in outcome.model.operations}


def test_custom_operations_say_why_by_their_cause() -> None:
    """Representative operations of each cause, as `check` and the 501 name them."""
    ably = _operations("openapi/apis-guru/ably.net__control.yaml")
    revoke = ably["POST /apps/{app_id}/keys/{key_id}/revoke"]
    assert revoke.kind == Kind.CUSTOM and revoke.reason == "an action on a row (revoke)"
    apigee = _operations("openapi/apis-guru/apigee.local__registry.yaml")
    rollback = apigee[
        "POST /v1/projects/{project}/apis/{api}/versions/{version}/specs/{spec}:rollback"
    ]
    assert rollback.reason == "a custom method (:rollback)"
    bna = _operations("paired/bna-api/openapi-3.1.yaml")
    assert bna["GET /reports/{year}"].reason == "answers a file or text, not JSON"
    petstore = _operations("openapi/petstore3.yaml")
    assert petstore["GET /user/login"].reason == "answers a plain value, not rows"
    inventory = petstore["GET /store/inventory"].reason
    assert cause_of(inventory) == Cause.SINGLETON, inventory
    assert "x-backsmith {resource: <table>}" in inventory
    readme = _operations("openapi/apis-guru/readme.io__default.json")
    swagger = readme["DELETE /swagger/{id}"]  # nothing beside it says what it serves
    assert swagger.kind == Kind.CUSTOM and cause_of(swagger.reason) == Cause.NO_SCHEMA


def test_item_deletes_with_no_schema_delete_what_their_neighbours_serve() -> None:
    """`DELETE /apps/{id}` answering 204 is a delete of the rows `/apps/{id}` and `/apps`
    serve; a nested one addresses its row under the parent, as nested items do."""
    ably = _operations("openapi/apis-guru/ably.net__control.yaml")
    apps = ably["PATCH /apps/{id}"].resource
    assert apps is not None
    delete = ably["DELETE /apps/{id}"]
    assert (delete.kind, delete.resource) == (Kind.DELETE, apps), delete.reason
    queue = ably["DELETE /apps/{app_id}/queues/{queue_id}"]
    assert (queue.kind, queue.resource) == (Kind.DELETE, ably["GET /apps/{app_id}/queues"].resource)
    assert {p.name: p.role for p in queue.params if p.location == "path"} == {
        "app_id": "scope",
        "queue_id": "key",
    }
    story = _operations("openapi/apis-guru/presalytics.io__story.yaml")
    assert story["DELETE /{id}"].kind == Kind.DELETE
    assert story["DELETE /{id}"].resource == story["GET /{id}"].resource
