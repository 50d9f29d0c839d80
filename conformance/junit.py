"""JUnit XML for one Report, shaped the way CI dashboards (GitLab, Jenkins) read it.

Why its own module: testsuite properties carry the target and profile, each testcase its time
and a classname by rule family (``sse-conformance.server.parsing``) so dashboards group them.
A client's broken testcases are grouped by cause instead (``sse-conformance.client.cause-01-C-08``,
the message led by the cause), the causes listed as properties, as in the other formats.
"""

from __future__ import annotations

import datetime
import platform
from xml.etree import ElementTree

from .causes import Rerun, infer, rerun_for
from .display import printable
from .results import FAMILIES, Outcome, Report, Result

__all__ = ["classname", "junit_xml"]

_TAGS = {Outcome.FAIL: "failure", Outcome.ERROR: "error", Outcome.SKIP: "skipped", Outcome.XFAIL: "skipped"}
_BROKEN = (Outcome.FAIL, Outcome.ERROR, Outcome.WARN)


def classname(kind: str, rule: str) -> str:
    """``sse-conformance.<kind>.<family>``: what JUnit viewers group testcases by."""
    return f"sse-conformance.{kind}.{FAMILIES.get(rule[:1], 'other')}"


Causes = dict[tuple[str | None, str | None], tuple[str, str]]  # item -> (classname, label)


def _causes(report: Report, props: ElementTree.Element) -> Causes:
    """Each broken item's cause (its classname and label); the causes as suite properties."""
    found: Causes = {}
    if report.kind != "client":
        return found
    for number, cause in enumerate(infer(report.results), 1):
        label = f"cause {number}: {cause.rule}" + (f" {cause.what}" if cause.what else "")
        if not cause.inferred:
            label += " (on its own)"
        ElementTree.SubElement(props, "property", name=f"cause.{number}", value=printable(
            f"{label}; {len(cause.cases)} case(s): {', '.join(cause.cases)}; fix: {cause.fix or '-'}"))
        for item in cause.items:
            group = f"sse-conformance.client.cause-{number:02d}-{cause.rule}"
            found[(item.case, item.chunking)] = (group, label)
    return found


def _case(suite: ElementTree.Element, kind: str, result: Result, causes: Causes | None = None,
          rerun: Rerun | None = None) -> None:
    cause = (causes or {}).get((result.case, result.chunking)) if result.outcome in _BROKEN else None
    group = cause[0] if cause else classname(kind, result.rule)
    case = ElementTree.SubElement(suite, "testcase", classname=group,
                                  name=f"{result.name} {result.rule}" if result.case else result.name,
                                  time=f"{result.seconds or 0:.3f}")
    # printable: XML 1.0 cannot hold a raw 0x1b even escaped, and CI parsers reject the file
    detail = printable("\n".join(f"{label}: {value}" for label, value in result.details()))
    if rerun is not None and result.case and result.outcome in _BROKEN:
        detail += f"\nre-run: {printable(rerun(result.case, result.chunking))}"
    tag = _TAGS.get(result.outcome)
    if tag:
        message = printable(result.message)
        if result.outcome is Outcome.XFAIL:
            message = f"known failure (baseline): {message}"
        if cause:
            message = f"[{printable(cause[1])}] {message}"
        node = ElementTree.SubElement(case, tag, message=message)
        node.text = detail
    elif result.outcome in (Outcome.WARN, Outcome.INFO):
        out = ElementTree.SubElement(case, "system-out")
        led = f"[{cause[1]}] " if cause else ""
        out.text = f"{result.outcome.value}: {led}{printable(result.message)}\n{detail}"


def junit_xml(report: Report) -> str:
    counts = report.summary()
    started = datetime.datetime.fromtimestamp(report.started, datetime.timezone.utc)
    # the run's wall time where the face measured it: the items' own times leave out the probes
    # and setup, and overlap when items run at once (a run of seconds showed 0.001)
    total = report.meta.get("seconds") or sum(r.seconds or 0 for r in report.results)
    suite = ElementTree.Element(
        "testsuite", name=f"sse-conformance {report.kind}", tests=str(len(report.results)),
        failures=str(counts["fail"]), errors=str(counts["error"]),
        skipped=str(counts["skip"] + counts["xfail"]), time=f"{total:.3f}",
        timestamp=started.isoformat(timespec="seconds"), hostname=platform.node())
    props = ElementTree.SubElement(suite, "properties")
    for name, value in (("target", report.target), ("profile", report.meta.get("profile")),
                        ("strict", str(report.strict).lower()), ("ok", str(report.ok).lower())):
        if value:
            ElementTree.SubElement(props, "property", name=name, value=printable(str(value)))
    causes, rerun = _causes(report, props), rerun_for(report.target, report.meta)
    for result in report.results:
        _case(suite, report.kind, result, causes, rerun)
    ElementTree.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(suite, encoding="unicode") + "\n"
