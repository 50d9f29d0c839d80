"""Debian's nginx as a reverse proxy for the tests: the report's own starter (one place for the
configs people deploy: nginx's defaults, the SSE recipe, the recipe plus gzip)."""

from conformance.report.nginx import CONFIGS, find, running

__all__ = ["CONFIGS", "find", "running"]
