"""`diff_contracts`: every change from one version of a contract to the next.

Both contracts are compared as the model read them: one bundled document each, other
files' `$ref`s already in it and local ones followed here, so where a schema is written
is never a change; Swagger 2.0 is compared as the OpenAPI 3 it is read as.
"""

from __future__ import annotations

from backsmith.model.types import Model
from backsmith.verify.diff.bodies import compare_request_body, compare_responses
from backsmith.verify.diff.changes import DiffReport, Recorder
from backsmith.verify.diff.operations import OperationSite, match, operation_sites
from backsmith.verify.diff.parameters import compare_parameters
from backsmith.verify.diff.security import compare_schemes, compare_security


def diff_contracts(old: Model, new: Model) -> DiffReport:
    """Every change from `old` to `new`, each with its rule, level and place.

    Example:
        report = diff_contracts(load_model("v1.yaml"), load_model("v2.yaml"))
        if report.refused: ...  # a breaking change without a new major version
    """
    record = Recorder(old, new)
    documents = (old.document, new.document)
    after_sites = operation_sites(new.document)
    matched = match(operation_sites(old.document), after_sites)
    _removed(record, matched.removed, {site.template for site in after_sites.values()})
    for site in matched.added:
        record.at(site.method, site.path, site.operation_id).new_side(
            "endpoint-added", "the operation was added", site.node.pointer
        )
    for before, after, moved in matched.pairs:
        scope = record.at(after.method, after.path, after.operation_id)
        _operation(scope, before, after, moved)
        compare_parameters(scope, documents, before, after, moved)
        compare_request_body(scope, documents, before.node, after.node)
        compare_responses(scope, documents, before.node, after.node)
        compare_security(scope, before, after)
    compare_schemes(record, old.document, new.document)
    if old.base_path.path != new.base_path.path:
        message = (
            f"operations are served under {new.base_path.path or '/'}, "
            f"not {old.base_path.path or '/'}"
        )
        record.new_side("api-base-path-changed", message, new.base_path.pointer or "/servers")
    return DiffReport.of(record.found, old.version, new.version)


def _removed(record: Recorder, removed: list[OperationSite], templates: set[str]) -> None:
    """Operations gone, each said as part of its path gone whole when nothing is left on it."""
    for site in removed:
        how = "with" if site.deprecated else "without"
        deprecated = "; it was deprecated" if site.deprecated else ""
        scope = record.at(site.method, site.path, site.operation_id)
        if site.template in templates:
            message = f"the operation was removed{deprecated}"
            scope.old_side(f"api-removed-{how}-deprecation", message, site.node.pointer)
        else:
            message = f"the path was removed, with the operation{deprecated}"
            scope.old_side(f"api-path-removed-{how}-deprecation", message, site.node.pointer)


def _operation(record: Recorder, before: OperationSite, after: OperationSite, moved: bool) -> None:
    """Changes to the operation itself: where it is, its operationId, its deprecation."""
    pointer = after.node.pointer
    if moved:
        new_parameters = [p for p in after.path_parameters if p not in before.path_parameters]
        if len(after.path_parameters) > len(before.path_parameters):
            message = (
                f"moved from {before.path} to {after.path}: clients must now send "
                f"{', '.join(new_parameters)}"
            )
            record.new_side("new-request-path-parameter", message, pointer)
        else:
            record.new_side(
                "api-path-changed", f"moved from {before.path} to {after.path}", pointer
            )
    if before.operation_id and before.operation_id != after.operation_id:
        now = f"is now {after.operation_id}" if after.operation_id else "was removed"
        message = f"operationId {before.operation_id} {now}"
        record.new_side(
            "api-operation-id-removed", message, after.node.child("operationId").pointer
        )
    if before.deprecated != after.deprecated:
        rule = "endpoint-deprecated" if after.deprecated else "endpoint-reactivated"
        said = "is deprecated" if after.deprecated else "is no longer deprecated"
        record.new_side(rule, f"the operation {said}", after.node.child("deprecated").pointer)
