"""The validation set: real bugs SSE libraries shipped and fixed, replayed against the suite.

``bugs.toml`` holds the entries; ``scripts/validate-history`` installs both releases of each,
runs the suite on them and renders docs/validation.md. See docs/validation.md.
"""
