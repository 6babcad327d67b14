"""The code location per stage: each stage folder has its assets and a small ``definitions.py``.

No module here uses ``from __future__ import annotations``: Dagster reads the type hints of
asset and op functions (the context, config and resource parameters) at definition time,
and string annotations would hide them (``tests/orchestration/test_definitions_snapshot.py``
checks it).
"""
