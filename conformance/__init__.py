"""sse-conformance: the conformance test suite for Server-Sent Events servers and clients."""

__version__ = "0.1.0"
