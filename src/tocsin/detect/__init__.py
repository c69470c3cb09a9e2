"""Detect: read logs into the event store, run Sigma rules and Tocsin's detectors on them.

The event store contract (layout, columns, field names) is docs/detect-events.md.
"""
