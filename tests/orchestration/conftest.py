"""Fixtures of the pipeline tests: a scratch VOICEOPS_HOME with the embedded engines."""

from __future__ import annotations

import pytest

from core.settings import Settings


@pytest.fixture
def settings(pipeline_settings: Settings) -> Settings:
    """``pipeline_settings`` (tests/conftest.py)."""
    return pipeline_settings
