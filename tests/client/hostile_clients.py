"""Clients that attack the reader of the suite's output, not the protocol (issue 25)."""

# ESC[2J clears the screen, the OSC sets the window title, BEL rings, CR overwrites the line
NASTY = "\x1b[2J\x1b]0;pwned\x07 then\rover"


def raises_terminal_codes(url: str, **_: object) -> None:
    raise RuntimeError(f"bad {NASTY}")
