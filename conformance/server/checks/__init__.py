"""Server checks grouped by concern; importing this package fills ``registry.CHECKS``."""

from . import active, delivery, fields, framing, headers, openai, pitfalls

__all__ = ["active", "delivery", "fields", "framing", "headers", "openai", "pitfalls"]
