"""Schemas named unlike their paths, and list envelopes of real APIs, in corpus contracts.

`ApiVersion` at /apis/{api}/versions (parent-joined), `ADGroup` at /groups (a qualifier),
`EpisodeFull`/`app_response` (a variant word), `TaxRate` at /taxes/{taxRateUuid} (the item
parameter), listed as `{value: [...], odata.nextLink}`, `{api_versions: [...],
next_page_token}` or `{podcasts: [...], has_next}`; envelopes are never tables.
"""

from __future__ import annotations

import functools

import pytest
from conftest import CORPUS

from backsmith.api import load_model
from backsmith.model.types import Kind, Model

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


@functools.cache
def _model(name: str) -> Model:
    return load_model(CORPUS / name)


def _kinds(name: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {
        (op.method, op.path): (op.kind.value if op.kind != Kind.CUSTOM else op.reason, op.resource)
        for op in _model(name).operations
    }


def test_graph_groups_are_adgroup_rows_listed_in_odata_envelopes() -> None:
    kinds = _kinds("openapi/apis-guru/windows.net__graphrbac.yaml")
    model = _model("openapi/apis-guru/windows.net__graphrbac.yaml")
    assert model.resources["ad_groups"].schema == "ADGroup"
    assert not any("list_result" in table for table in model.resources)  # envelopes
    # Every groups operation now names its table; {tenantID} still needs a declaration.
    for key in [("GET", "/{tenantID}/groups"), ("GET", "/{tenantID}/groups/{objectId}")]:
        assert kinds[key][1] == "ad_groups", kinds[key]
        assert kinds[key][0].startswith("needs a declaration"), kinds[key]


def test_apigee_versions_and_specs_are_named_by_their_parent() -> None:
    kinds = _kinds("openapi/apis-guru/apigee.local__registry.yaml")
    base = "/v1/projects/{project}/apis/{api}/versions"
    assert kinds[("GET", base)][1] == "api_versions"
    assert kinds[("GET", base + "/{version}")][1] == "api_versions"
    assert kinds[("POST", base + "/{version}/specs")][1] == "api_specs"
    assert kinds[("PATCH", base + "/{version}/specs/{spec}")][1] == "api_specs"
    # As for /v1/projects/{project}: {api} names apis by a string no property holds.
    assert kinds[("GET", base)][0].startswith("needs a declaration")
    tables = set(_model("openapi/apis-guru/apigee.local__registry.yaml").resources)
    assert not any(t.startswith("list_") for t in tables)  # ListApiVersionsResponse...


def test_ably_variant_schemas_name_their_tables() -> None:
    kinds = _kinds("openapi/apis-guru/ably.net__control.yaml")
    assert kinds[("POST", "/accounts/{account_id}/apps")] == ("create", "apps")
    assert kinds[("PATCH", "/apps/{id}")] == ("update", "apps")
    assert kinds[("DELETE", "/apps/{id}")] == ("delete", "apps")
    assert kinds[("POST", "/apps/{app_id}/keys")] == ("create", "keys")
    assert kinds[("DELETE", "/apps/{app_id}/queues/{queue_id}")] == ("delete", "queues")
    # rule_response is a oneOf of eleven rule kinds: one table with every kind's properties.
    assert kinds[("GET", "/apps/{app_id}/rules")] == ("list", "rules")
    assert kinds[("POST", "/apps/{app_id}/rules")] == ("create", "rules")
    assert kinds[("PATCH", "/apps/{app_id}/rules/{rule_id}")] == ("update", "rules")
    assert kinds[("DELETE", "/apps/{app_id}/rules/{rule_id}")] == ("delete", "rules")


def test_listennotes_reads_and_lists_full_and_simple_variants() -> None:
    kinds = _kinds("openapi/oas31/apisguru-via-schemathesis__listennotes.com.json")
    assert kinds[("GET", "/episodes/{id}")] == ("read", "episodes")
    assert kinds[("GET", "/podcasts/{id}")] == ("read", "podcasts")
    assert kinds[("DELETE", "/podcasts/{id}")] == ("delete", "podcasts")
    assert kinds[("GET", "/best_podcasts")] == ("list", "podcasts")  # {podcasts, has_next}
    assert kinds[("GET", "/genres")] == ("list", "genres")
    assert kinds[("GET", "/curated_podcasts/{id}")] == ("read", "curated_lists")
    # Fetching several by id is a batch, not a create; a search stays custom.
    assert kinds[("POST", "/episodes")][0].startswith("answers several episodes rows")
    assert kinds[("GET", "/typeahead")][1] is None


def test_izettle_tax_rates_are_named_by_the_item_parameter() -> None:
    kinds = _kinds("openapi/apis-guru/izettle.com__products.yaml")
    assert kinds[("GET", "/v1/taxes/{taxRateUuid}")] == ("read", "tax_rates")
    assert kinds[("PUT", "/v1/taxes/{taxRateUuid}")] == ("replace", "tax_rates")
    assert kinds[("DELETE", "/v1/taxes/{taxRateUuid}")] == ("delete", "tax_rates")
    # GET /v1/taxes answers an array of {taxRates: [...]} pages: no rows to list as such.
    assert kinds[("GET", "/v1/taxes")][0].startswith("answers an array of pages of tax_rates")
