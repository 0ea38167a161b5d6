"""The production server's app for the fuzz run against it (tests/test_schemathesis_server.py):
`app.cli.granian_app:create` as `stations serve` loads it, with one test limit lowered, as the
in-process fuzz does: no drawn question pairs more than FUZZ_MAX_PAIRS sites and cells (beyond,
the documented 400 naming threshold_m, as at the real 30 million)."""

from __future__ import annotations

from flask import Flask

from app.cli.granian_app import create as production_create
from geo.index import coverage_sets
from tests.test_schemathesis import FUZZ_MAX_PAIRS


def create() -> Flask:
    coverage_sets.MAX_PAIRS = FUZZ_MAX_PAIRS
    return production_create()
