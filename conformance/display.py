"""Make invisible bytes visible in verdicts: CR, LF, BOM, NUL and friends become symbols."""

from __future__ import annotations

__all__ = ["excerpt", "visible"]

_SYMBOLS = {
    "\r": "␍",
    "\n": "␊\n",
    "\ufeff": "⇔",
    "\x00": "␀",
    "\t": "→",
    "\ufffd": "�",
}


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
        elif char < " " or char == "\x7f" or "\x80" <= char <= "\x9f" or char in "\u2028\u2029":
            out.append(f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}")
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
