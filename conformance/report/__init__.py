"""The cross-implementation report: run every implementation, keep the results JSON, render REPORT.md.

``results JSON`` is the source of truth; ``REPORT.md`` is only ever rendered from it.
"""
