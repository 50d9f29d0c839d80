"""The rule catalogue as data: every verdict in the suite cites one of these IDs.

C-xx, N-xx and S-xx mirror ``shared/spec/rules.md`` (parsing, connection, server). Rules the
catalogue does not number live in their own namespaces so they never collide with future
catalogue IDs: O-xx for the OpenAI-compatible streaming profile, P-xx for real-world pitfalls
from ``design/ecosystem.md`` section 4. Levels: "must" (a conforming peer would misparse or
fail), "should" (breaks common clients or proxies), "info" (recorded, never judged).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROFILES", "RULES", "SPEC_URL", "Rule", "rule"]

SPEC_URL = "https://html.spec.whatwg.org/multipage/server-sent-events.html"
PROFILES = ("generic", "openai")  # which rules apply: SSE events, or the assembled OpenAI stream (O-xx)


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    title: str
    anchor: str

    @property
    def url(self) -> str:
        """The spec link for this rule (profile rules link to their own reference)."""
        if self.anchor.startswith("http"):
            return self.anchor
        return f"{SPEC_URL}#{self.anchor}"


_INTERP = "event-stream-interpretation"
_PARSE = "parsing-an-event-stream"
_FIELD = "processField"
_DISPATCH = "dispatchMessage"
_MODEL = "sse-processing-model"
_RECONNECT = "reestablish-the-connection"
_AUTHORING = "authoring-notes"
_OPENAI = "https://platform.openai.com/docs/api-reference/chat-streaming"

_TABLE: tuple[tuple[str, str, str, str], ...] = (
    # -- client parsing (C-xx) -----------------------------------------------------------
    ("C-01", "must", "Always decode as UTF-8, whatever charset the headers name", _INTERP),
    ("C-02", "must", "Invalid UTF-8 becomes U+FFFD; the stream does not fail", _INTERP),
    ("C-03", "must", "A multi-byte character split across chunks decodes intact", _INTERP),
    ("C-04", "must", "One leading BOM is stripped", _INTERP),
    ("C-05", "must", "Only one BOM is stripped", _INTERP),
    ("C-06", "must", "A BOM after the start of the stream is ordinary text", _INTERP),
    ("C-07", "must", "A BOM split across chunks is still stripped", _INTERP),
    ("C-08", "must", "LF, CR and CRLF all end a line", _PARSE),
    ("C-09", "must", "Mixed terminators: each terminator is its own line end", _PARSE),
    ("C-10", "must", "A CRLF split across chunks counts once", _PARSE),
    ("C-11", "must", "No other character ends a line", _PARSE),
    ("C-12", "must", "Comment lines are ignored, wherever they appear", _INTERP),
    ("C-13", "must", "A blank line with nothing buffered dispatches nothing", _DISPATCH),
    ("C-14", "must", "A line is split at the first colon only", _INTERP),
    ("C-15", "must", "Exactly one leading U+0020 is removed; other whitespace stays", _INTERP),
    ("C-16", "must", "Field names are exact and case-sensitive", _FIELD),
    ("C-17", "must", "A line with no colon is a field with an empty value", _INTERP),
    ("C-18", "must", "Unknown fields are ignored; prefixes of field names do not match", _FIELD),
    ("C-19", "must", "A whitespace-only line is not blank", _INTERP),
    ("C-20", "must", "Data lines join with LF, and exactly one trailing LF is removed", _DISPATCH),
    ("C-21", "must", "An empty data field still dispatches an event", _DISPATCH),
    ("C-22", "must", "NUL in data is kept", _FIELD),
    ("C-23", "must", "event sets the type; the default is message", _DISPATCH),
    ("C-24", "must", "An empty event type means message", _DISPATCH),
    ("C-25", "must", "The type is exact: extra spaces and case are kept", _FIELD),
    ("C-26", "must", "A block with no data still resets the event type", _DISPATCH),
    ("C-27", "must", "The last event ID persists until it is changed", _DISPATCH),
    ("C-28", "must", "An empty id resets the last event ID, with or without the colon", _FIELD),
    ("C-29", "must", "An id containing U+0000 is ignored and the previous value is kept", _FIELD),
    ("C-30", "must", "A block with an id but no data still updates the last event ID", _DISPATCH),
    ("C-31", "must", "Field order within a block does not matter", _FIELD),
    ("C-32", "must", "Non-ASCII ids round-trip", _FIELD),
    ("C-33", "must", "An incomplete event at EOF is discarded, its id never applied", _INTERP),
    ("C-34", "must", "retry accepts ASCII digits only, in base 10", _FIELD),
    ("C-35", "must", "Any other retry value is ignored", _FIELD),
    ("C-36", "must", "retry takes effect when its line is processed, not at dispatch", _FIELD),
    ("C-37", "must", "Arbitrary chunking is transparent", _PARSE),
    ("C-38", "must", "Events arrive in order, and large ones survive", _INTERP),
    ("C-39", "must", "No event is reported for a block without data", _DISPATCH),
    # -- client connection (N-xx) --------------------------------------------------------
    ("N-01", "should", "The request: GET, Accept and Cache-Control, no Last-Event-ID", "dom-eventsource"),
    ("N-02", "must", "Announce the connection on 200 text/event-stream", "announce-the-connection"),
    ("N-03", "must", "Content-Type is matched on its MIME essence", "dom-eventsource"),
    ("N-04", "must", "Any status other than 200 fails the connection", "dom-eventsource"),
    ("N-05", "must", "204 No Content stops reconnection", "server-sent-events-intro"),
    ("N-06", "must", "Redirects are followed transparently", "dom-eventsource"),
    ("N-07", "must", "A 3xx with a missing or empty Location is an error", "dom-eventsource"),
    ("N-08", "must", "A cross-origin redirect drops credentials headers", "dom-eventsource"),
    ("N-09", "must", "A network error before any response means retry", "dom-eventsource"),
    ("N-10", "must", "At the end of the body, reestablish the connection", _RECONNECT),
    ("N-11", "must", "Last-Event-ID is sent exactly when the last event ID is non-empty", "the-last-event-id-header"),
    ("N-12", "must", "The last event ID carries over to the new connection", _RECONNECT),
    ("N-13", "must", "The reconnection time carries over and governs later retries", "concept-event-stream-reconnection-time"),
    ("N-14", "must", "Parser state resets on reconnect, but last event ID and retry", _RECONNECT),
    ("N-15", "must", "close() stops everything", "dom-eventsource-close"),
    ("N-16", "must", "An aborted fetch fails the connection", "fail-the-connection"),
    ("N-17", "must", "URL handling (browser API)", "dom-eventsource"),
    ("N-18", "must", "CORS (browser only)", "dom-eventsource"),
    ("N-19", "info", "Optional features: headers, POST body, preset Last-Event-ID", "dom-eventsource"),
    # -- server (S-xx) -------------------------------------------------------------------
    ("S-01", "must", "Answer 200 with Content-Type text/event-stream", _MODEL),
    ("S-02", "must", "Encode the body as UTF-8; a BOM only at the start", _PARSE),
    ("S-03", "should", "Send Cache-Control: no-cache or no-store", _AUTHORING),
    ("S-04", "should", "Do not buffer or compress the stream (X-Accel-Buffering: no)", _AUTHORING),
    # S-05 is judged where it is a protocol violation (RFC 9113 §8.2.2): on HTTP/2 responses. On
    # HTTP/1.1, Connection and Keep-Alive are the server's own framing, never a finding.
    ("S-05", "must", "No connection-specific headers on HTTP/2 (RFC 9113 §8.2.2)", _AUTHORING),
    ("S-06", "should", "Flush headers at once and each event as it is written", _AUTHORING),
    ("S-07", "info", "204 No Content tells clients to stop reconnecting", "server-sent-events-intro"),
    ("S-08", "should", "Cross-origin use: Access-Control-Allow-Origin", _MODEL),
    ("S-09", "must", "End every event with an empty line; end the stream on a boundary", _PARSE),
    ("S-10", "info", "Pick one line terminator (mixing is legal)", _PARSE),
    ("S-11", "must", "Split data on line breaks; no bare CR inside a line", _PARSE),
    ("S-12", "should", "Write field: value with one space after the colon", _INTERP),
    ("S-13", "must", "No CR or LF in event, id or comment text", _PARSE),
    # S-14 and S-15 are MUSTs in the catalogue, but a client just ignores the field and the
    # stream still works, so the suite warns (as the server-suite issue decided).
    ("S-14", "should", "No U+0000 in id", _FIELD),
    ("S-15", "should", "retry is a non-negative integer in ASCII digits", _FIELD),
    ("S-16", "should", "Every block dispatches something (a data line)", _DISPATCH),
    ("S-17", "should", "Field names are lowercase and exact", _FIELD),
    ("S-18", "should", "Send a comment while idle, about every 15 seconds", _AUTHORING),
    ("S-19", "should", "Honour Last-Event-ID: resume with no duplicate and no gap", "the-last-event-id-header"),
    ("S-20", "should", "Send id on events it can resume from", _FIELD),
    ("S-21", "must", "End the body cleanly (no aborted chunked body or reset)", _RECONNECT),
    ("S-22", "info", "Client identity must not rely on IP address", _AUTHORING),
    ("S-23", "should", "Deliver at least one event", _MODEL),
    # -- OpenAI-compatible streaming profile (O-xx) ---------------------------------------
    ("O-01", "must", "Every data payload before [DONE] is a JSON object", _OPENAI),
    ("O-02", "must", "The last payload is [DONE], in a terminated event", _OPENAI),
    ("O-03", "must", "Nothing follows [DONE]", _OPENAI),
    ("O-04", "should", "Chunks have the chat.completion.chunk shape with a choices list", _OPENAI),
    ("O-05", "must", "An error mid-stream is a recognisable error payload, then a clean end", _OPENAI),
    ("O-06", "should", "No meta-only blocks or id-plus-comment keep-alives (crash the openai SDK)", _OPENAI),
    ("O-07", "must", "Client: return the assembled text at [DONE], without waiting for close", _OPENAI),
    ("O-08", "must", "Client: raise on a mid-stream error, never return partial text", _OPENAI),
    ("O-09", "must", "Client: assemble delta content across chunks, splits and keep-alives", _OPENAI),
    # -- real-world pitfalls (P-xx) -------------------------------------------------------
    ("P-01", "should", "A HEAD request returns promptly", _MODEL),
    ("P-02", "should", "Headers arrive before the first event is ready", _AUTHORING),
    ("P-03", "should", "Heartbeats are comments, not events", _AUTHORING),
    ("P-04", "should", "A client disconnect stops the server-side generator", _AUTHORING),
    ("P-05", "should", "Content-Type charset is absent or utf-8 (Chromium rejects others)", _MODEL),
    # P-06 is a MUST although the spec has no such sentence: a stream whose events never reach a
    # connected client (nothing in the whole window, or everything only when the body ends) is
    # unusable whatever its bytes say, and a run must not end "CONFORMS" for it (exit 1).
    ("P-06", "must", "Events reach the client while the connection is open (not never, not only at the end)", _AUTHORING),
    ("P-07", "should", "A second request is answered while a stream is open", _AUTHORING),
    ("P-08", "should", "Event types have no leading or trailing whitespace (listeners never match)", _DISPATCH),
    # P-10 judges speed by CPU time, not wall time, so no load can flip it: a client still busy
    # after its CPU budget on one case (30 s, 4 s per MiB sent on large cases) is too slow to judge; its
    # parsing rules are skipped for that case rather than failed (slowness is not misparsing).
    ("P-10", "should", "Client: finishes a case within 30 s of CPU, or 4 s per MiB sent (linear-time buffering)", _PARSE),
)

RULES: dict[str, Rule] = {row[0]: Rule(*row) for row in _TABLE}


def rule(rule_id: str) -> Rule:
    """Look a rule up by ID; unknown IDs are a programming error, so they raise KeyError."""
    return RULES[rule_id]
