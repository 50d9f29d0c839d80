"""Clients that attack the reader of the suite's output, not the protocol (issue 25)."""

# ESC[2J clears the screen, the OSC sets the window title, BEL rings, CR overwrites the line
NASTY = "\x1b[2J\x1b]0;pwned\x07 then\rover"


def raises_terminal_codes(url: str, **_: object) -> None:
    raise RuntimeError(f"bad {NASTY}")


def hoards_memory(url: str, **_: object) -> list:
    """Asks for 1 GiB in 64 MiB blocks (untouched, so an unbounded run costs no real memory)."""
    return [bytearray(64 << 20) for _ in range(16)]


def dies(url: str, **_: object) -> None:
    """Ends its worker the way an allocation failing in C code does: abort()."""
    import os

    os.abort()
