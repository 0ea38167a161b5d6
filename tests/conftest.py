"""Shared fixtures: the embedded atlas is loaded once per test session."""

from __future__ import annotations

import pytest

from geo.atlas import Atlas


@pytest.fixture(scope="session")
def atlas() -> Atlas:
    """The embedded Shanghai dataset, as the app loads it."""
    return Atlas.load()
