"""The run as JUnit XML: one testcase per operation and check; a failure as <failure>, a
check that does not apply as <skipped>, each with its reason."""

from __future__ import annotations

from xml.etree import ElementTree

from backsmith.verify.suite.results import CHECK_NAMES, Outcome, SuiteReport

SUITE_NAME = "backsmith contract tests"


def junit_xml(report: SuiteReport) -> str:
    counts = report.counts()
    total = sum(counts.values())
    root = ElementTree.Element("testsuites", name=SUITE_NAME)
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        name=SUITE_NAME,
        tests=str(total),
        failures=str(counts["failed"]),
        skipped=str(counts["not_applicable"]),
        errors="0",
        time=f"{report.seconds:.2f}",
    )
    ElementTree.SubElement(
        ElementTree.SubElement(suite, "properties"),
        "property",
        name="contract",
        value=report.contract,
    )
    for result in report.operations:
        for name in CHECK_NAMES:
            verdict = result.verdicts.get(name)
            if verdict is None:
                continue
            case = ElementTree.SubElement(
                suite, "testcase", classname=result.operation_id, name=name
            )
            if verdict.outcome == Outcome.FAIL:
                failure = ElementTree.SubElement(case, "failure", message=verdict.reason)
                status = f" -> {verdict.status}" if verdict.status is not None else ""
                failure.text = f"{verdict.request}{status}: {verdict.reason}".lstrip(": ")
            elif verdict.outcome == Outcome.NA:
                ElementTree.SubElement(case, "skipped", message=verdict.reason)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, "unicode") + "\n"
