"""What to fix, by diagnosis: a table per kind (a rule, a split, how a client ended). Data only;
the judge picks the most specific entry for what it found."""

from __future__ import annotations

__all__ = ["CHUNKING_FIXES", "CHUNKING_RULES", "DEFAULT_CHUNKING_RULE", "ENDING_FIXES", "FIXES",
           "NOTIFICATION_FIX", "SPLIT_RULES", "UMBRELLA_RULES"]

# A client that passes a case whole but fails it under a chunking breaks this rule.
CHUNKING_RULES = {"crlf": "C-10", "utf8": "C-03"}
DEFAULT_CHUNKING_RULE = "C-37"

# Likely fixes, by rule; the chunking hints win when the failure only shows under a split.
FIXES = {
    "C-02": "decode with errors='replace' (one U+FFFD per maximal invalid subpart), never fail",
    "C-03": "decode incrementally (codecs.getincrementaldecoder('utf-8')) or decode whole lines",
    "C-04": "strip one U+FEFF at the very start of each response body, even split across reads",
    "C-07": "buffer up to 3 bytes at the start of the body before deciding whether it is a BOM",
    "C-08": "end lines at CRLF, lone LF and lone CR (bytes.splitlines-style, not str.splitlines)",
    "C-09": "treat each CR, LF or CRLF as its own terminator",
    "C-10": "end the line at CR at once; skip an LF that starts the next read",
    "C-11": "split lines on CR and LF only (str.splitlines also splits on U+2028, NEL...)",
    "C-15": "remove exactly one U+0020 after the colon; keep other leading and trailing whitespace",
    "C-17": "a line without a colon is a field named by the whole line, with an empty value",
    "C-19": "only an empty line dispatches; do not strip lines before testing for blank",
    "C-20": "join data lines with LF and remove exactly one trailing LF",
    "C-23": "reset the event type buffer after every dispatch",
    "C-26": "reset the event type buffer after every dispatch, even when no data was buffered",
    "C-27": "report the last event ID string, which persists until an id field changes it",
    "C-33": "discard the pending event at EOF; only a blank line dispatches",
    "C-37": "buffer bytes across reads; a line is complete only at CR, LF or CRLF",
    "C-38": "buffer a whole line and event however large; never cap them below what the server sends",
    "C-39": "do not report an event for a block without data",
    "N-03": "accept text/event-stream with any parameters; reject any other type by raising",
    "N-04": "raise on any status other than 200 and do not reconnect",
    "N-05": "stop reconnecting on 204 No Content",
    "N-11": "send Last-Event-ID on reconnect exactly when the last event ID is non-empty",
    "N-12": "seed the new connection with the last event ID",
    "N-13": "wait at least the reconnection time (the retry field) before reconnecting",
    "O-07": "return at data: [DONE] without waiting for the connection to close",
    "O-08": "raise on an error payload; never return partial text",
    "O-09": "concatenate choices[0].delta.content across every chunk",
}
# A split's fix is that of the rule it breaks.
CHUNKING_FIXES = {family: FIXES[CHUNKING_RULES.get(family, DEFAULT_CHUNKING_RULE)]
                  for family in ("1-byte", "2-byte", "crlf", "utf8", "random")}
# Rules a case lists for the reading it needs (chunk splits) or for its profile's whole job
# (assemble the text, stop at [DONE]): their fixes apply only when nothing more specific does.
SPLIT_RULES = frozenset({"C-03", "C-10", "C-37"})
UMBRELLA_RULES = frozenset({"O-07", "O-09"})
# Fixes for how the client ended, whatever the case is about.
ENDING_FIXES = {
    "hang": "return (end the iteration) when the response body ends, unless the client reconnects",
    "hang-error": "raise when the connection fails (non-200, wrong type, dropped); never wait forever",
    "returned": "raise when the connection fails: a non-200 status, a wrong type, or a dropped stream",
    "done": FIXES["O-07"],
    "broken": "fix the adapter: --cmd prints one JSON event per line, a callable yields events (README)",
    "unstarted": "call it as the runner does (target(url, **inputs); {url} in --cmd); its stderr says why",
}
NOTIFICATION_FIX = (
    "report open each time a 200 text/event-stream response is accepted, before its events; report "
    "error each time a connection ends, drops or fails, after its events and before reconnecting, "
    "and when giving up (a 204, any other status, a wrong type); nothing for a redirect"
)
