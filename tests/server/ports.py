"""Loopback ports for the servers the tests start: a free one, and waiting until it listens."""

from __future__ import annotations

import socket
import time

__all__ = ["free_port", "listening", "wait_listening"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_listening(*ports: int, seconds: float = 10.0, alive=lambda: True) -> bool:
    """True once every port accepts connections; False after ``seconds`` or when not ``alive()``."""
    deadline = time.monotonic() + seconds
    while alive() and time.monotonic() < deadline:
        if all(listening(port) for port in ports):
            return True
        time.sleep(0.02)
    return False
