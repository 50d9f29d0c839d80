"""``sse-conformance rules ID``: everything the suite knows about one rule, in one place.

Why assembled here rather than written per rule: the checks and cases already say what is
checked and how to fix it (server checks' ``fix=`` texts, the client judge's FIXES, the case
descriptions), so this reads them instead of keeping a second copy that would drift.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from .rules import Rule

__all__ = ["explain_rule"]

# The spec's own words for each section a rule links to (WHATWG HTML, Server-sent events).
SPEC_WORDS = {
    "event-stream-interpretation": (
        "Streams must be decoded using the UTF-8 decode algorithm. Lines must be processed, in the "
        "order they are received: if the line is empty (a blank line), dispatch the event; if the "
        "line starts with a U+003A COLON character (:), ignore the line; if the line contains a "
        "U+003A COLON character, collect the characters on the line before the first colon and let "
        "field be that string; collect the characters after the colon and let value be that string. "
        "If value starts with a U+0020 SPACE character, remove it from value."),
    "parsing-an-event-stream": (
        "This event stream format's MIME type is text/event-stream. Lines must be separated by either "
        "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single U+000A LINE FEED "
        "(LF) character, or a single U+000D CARRIAGE RETURN (CR) character. Since connections "
        "established to remote servers for such resources are expected to be long-lived, UAs should "
        "ensure that appropriate buffering is used."),
    "processField": (
        "If the field name is \"event\", set the event type buffer to field value. If it is \"data\", "
        "append the field value to the data buffer, then append a single U+000A LINE FEED (LF). If it "
        "is \"id\" and the field value does not contain U+0000 NULL, set the last event ID buffer to "
        "the field value. If it is \"retry\" and the value consists of only ASCII digits, interpret it "
        "as an integer in base ten and set the reconnection time. Otherwise, ignore the field."),
    "dispatchMessage": (
        "Set the last event ID string of the event source to the value of the last event ID buffer. "
        "If the data buffer is an empty string, set the data buffer and the event type buffer to the "
        "empty string and return. If the data buffer's last character is a U+000A LINE FEED (LF), "
        "remove it. If the event type buffer has a value other than the empty string, change the type "
        "of the event to that value."),
    "authoring-notes": (
        "Legacy proxy servers are known to, in certain cases, drop HTTP connections after a short "
        "timeout. To protect against such proxy servers, authors can include a comment line (one "
        "starting with a ':' character) every 15 seconds or so. HTTP chunking can have unexpected "
        "negative effects on the reliability of this protocol, in particular if the chunking is done "
        "by a different layer unaware of the timing requirements."),
    "reestablish-the-connection": (
        "When a user agent is to reestablish the connection, queue a task to set the readyState "
        "attribute to CONNECTING and fire an event named error; wait a delay equal to the "
        "reconnection time of the event source; then, if the last event ID string is not the empty "
        "string, set `Last-Event-ID` to it and fetch the resource again."),
    "sse-processing-model": (
        "HTTP 200 OK responses with a `Content-Type` header specifying the type text/event-stream, "
        "ignoring any MIME type parameters, must be processed line by line as described below."),
    "the-last-event-id-header": (
        "The `Last-Event-ID` HTTP request header reports an EventSource object's last event ID string "
        "to the server when the user agent is to reestablish the connection."),
}


def _server_fixes(rule_id: str) -> list[str]:
    """The literal ``fix=`` texts of the rule's server check (module-level constants included)."""
    from .server import checks  # noqa: F401 - fills the registry
    from .server.registry import CHECKS

    check = CHECKS.get(rule_id)
    if check is None:
        return []
    module = inspect.getmodule(check.func)
    tree = ast.parse(textwrap.dedent(inspect.getsource(check.func)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "fix":
            value = node.value
            if isinstance(value, ast.Name):
                value_text = getattr(module, value.id, None)
                found.append(value_text if isinstance(value_text, str) else None)
            elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append(value.value)
    return [f for f in dict.fromkeys(found) if f]


def _cases(rule_id: str) -> list[str]:
    from .cases import load_cases

    return [f"{c.id}  {c.description}" for c in load_cases() if rule_id in c.rules]


def explain_rule(rule: Rule) -> str:
    from .client.fixes import FIXES

    lines = [f"{rule.id}  {rule.level.upper()}  {rule.title}", f"  spec: {rule.url}"]
    words = SPEC_WORDS.get(rule.anchor)
    if words:
        lines += ["", "The spec says:", textwrap.fill(words, 96, initial_indent="  ", subsequent_indent="  ")]
    cases = _cases(rule.id)
    fixes = [FIXES[rule.id]] if rule.id in FIXES else _server_fixes(rule.id)
    if rule.id[0] in "SP" or rule.id in ("O-01", "O-02", "O-03", "O-04", "O-05", "O-06"):
        lines += ["", "What is checked:", f"  the server's response, by `sse-conformance server URL` "
                  f"(grep -rn '\"{rule.id}\"' conformance/server/checks/ for the check)"]
    if cases:
        lines += ["", f"What is checked: the client against {len(cases)} case(s), each under every "
                  "allowed chunking (sse-conformance cases -k ID):"] + [f"  {c}" for c in cases]
    if fixes:
        lines += ["", "Common causes and the fix:"] + [textwrap.fill(f, 96, initial_indent="  - ",
                                                                     subsequent_indent="    ") for f in fixes]
    level = {"must": "a failure fails the run (exit 1)",
             "should": "a finding warns (exit 0), and fails the run under --strict",
             "info": "recorded only, never judged"}[rule.level]
    lines += ["", f"Level {rule.level}: {level}."]
    return "\n".join(lines)
