"""Make invisible bytes visible in verdicts: CR, LF, BOM, NUL and friends become symbols."""

from __future__ import annotations

__all__ = ["excerpt", "printable", "visible"]

_SYMBOLS = {
    "\r": "␍",
    "\n": "␊\n",
    "\ufeff": "⇔",
    "\x00": "␀",
    "\t": "→",
    "\ufffd": "�",
}


def _hidden(char: str) -> bool:
    """A character a terminal acts on or XML 1.0 cannot hold: C0 and C1 controls, DEL, line and
    paragraph separators, surrogates and the two noncharacters U+FFFE, U+FFFF."""
    return (char < " " or "\x7f" <= char <= "\x9f" or char in "\u2028\u2029\ufffe\uffff"
            or "\ud800" <= char <= "\udfff")


def _code(char: str) -> str:
    return f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}"


def printable(text: str) -> str:
    """``text`` safe for a terminal, HTML and XML: line breaks and tabs stay, every other hidden
    character becomes ``\\xNN`` (ESC, BEL, CR...). Why: a client's crash text or stderr is a
    peer's bytes; raw, an ESC[2J clears the reader's screen and a 0x1b makes JUnit XML invalid."""
    if not any(_hidden(char) and char not in "\n\t" for char in text):
        return text
    return "".join(_SYMBOLS.get(char) or _code(char) if _hidden(char) and char not in "\n\t" else char
                   for char in text)


def visible(value: str | bytes, limit: int = 200, *, newlines: bool = False) -> str:
    """Render text or bytes with whitespace shown (CR ␍, LF ␊, BOM ⇔, NUL ␀, tab →).

    Bytes that are not valid UTF-8 are shown as ``\\xNN``. Other control characters are shown
    as ``\\xNN`` too. Long values are cut at ``limit`` characters with a count of what was cut.
    With ``newlines`` the ␊ symbol is followed by a real line break (for multi-line evidence).
    """
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value
    out: list[str] = []
    for char in text[:limit]:
        symbol = _SYMBOLS.get(char)
        if symbol is not None:
            out.append(symbol if newlines or char != "\n" else "␊")
        elif _hidden(char):
            out.append(_code(char))
        else:
            out.append(char)
    if len(text) > limit:
        out.append(f"… (+{len(text) - limit} more)")
    return "".join(out)


def excerpt(body: bytes, offset: int, before: int = 24, after: int = 40) -> str:
    """A short escaped window of ``body`` around byte ``offset``, labelled with its position."""
    start = max(0, offset - before)
    window = body[start : offset + after]
    prefix = "…" if start else ""
    suffix = "…" if offset + after < len(body) else ""
    return f"at byte {offset}: {prefix}{visible(window, limit=before + after)}{suffix}"
