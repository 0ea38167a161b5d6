"""Schemathesis fuzzes every operation of the OpenAPI document against the app: a bounded, seeded
run (valid and invalid inputs) with every check, response schema conformance included.

One check is narrowed, not dropped: "schema-valid data is accepted" allows a 400 only when it
names a parameter whose validity depends on another parameter or on the data, which OpenAPI 3.0
cannot state for query parameters (each is in the parameter's description): downloads are exact
WGS-84 (gaps: out_crs, simplify); a box of cells holds at most 6,000 (cells: bbox); an answer
built on site-cell pairs holds a bounded number of them (gaps, cells, plan, access, schedule:
threshold_m); a schedule's earliest hour comes before its latest; keeping stations open needs a
time and some station closed then, and uploaded candidates must lie in the area (plan: at,
candidates); stations added must be in China and those removed or re-timed must exist (scenario:
add, remove, hours); an uploaded list must be a readable table (validate); a courier writes only
about a station that exists (checkins, reports: station_id). Any other 400 for schema-valid data
fails, as does any 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Invalid data may also be refused as too long a URL (414) or too large a body (413), both
# documented; schemathesis' default list of refusals leaves them out.
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422",
            "428", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}})
EXAMPLES = 10  # per operation and mode (20 in all): seeded, so the run is repeatable
# POST /api/plan takes GET /api/plan's parameters as a JSON body: GET gets the full count, the
# POST fewer (each plan computes for seconds; its own part, the body, is covered by five).
FEWER = {"POST /api/plan": 5, "GET /api/schedule": 5}  # a schedule computes for seconds
DEPENDS = {"GET /api/gaps": {"out_crs", "simplify", "threshold_m"},
           "GET /api/coverage/cells": {"bbox", "threshold_m"},
           "GET /api/access": {"threshold_m"},
           "GET /api/schedule": {"earliest", "threshold_m"},
           "GET /api/plan": {"at", "candidates", "threshold_m"},
           "POST /api/plan": {"at", "candidates", "threshold_m"},
           "POST /api/scenario": {"add", "remove", "hours"},
           "POST /api/validate": {"file", "sheet"},
           "POST /api/stations/{station_id}/checkins": {"station_id"},
           "POST /api/stations/{station_id}/reports": {"station_id"}}


def accepted_unless_dependent(ctx, response, case) -> bool | None:
    """Valid data is accepted (2xx), or refused with a 400 naming a dependent parameter."""
    if not case.meta.generation.mode.is_positive or response.status_code < 400:
        return None
    param = (response.json() or {}).get("param") if response.status_code == 400 else None
    if param in DEPENDS[case.operation.label]:
        return None
    raise AssertionError(f"schema-valid request refused: {response.status_code} "
                         f"{response.text[:300]}")


FUZZ_MAX_PAIRS = 2_000_000  # site-cell pairs a fuzzed plan or gap question may hold


@pytest.fixture(scope="module")
def fuzz_app():
    """Its own app: no exact plan runs a minute, no drawn question holds more than
    FUZZ_MAX_PAIRS pairs (a drawn k = 500 at 15 km computed for half a minute; beyond the
    limit the answer is the documented 400 naming threshold_m, as at 30 million), and
    fuzzing fills no shared caches."""
    from app import create_app
    from geo.index import coverage_sets

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coverage_sets, "MAX_PAIRS", FUZZ_MAX_PAIRS)
        yield create_app({"TESTING": True, "STATIONS_TILES": "none",
                          "STATIONS_MIP_SECONDS": 2})


def run_operation(op, mode: GenerationMode) -> None:
    """Every check on EXAMPLES generated cases of one operation."""
    narrowed = op.label in DEPENDS

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=FEWER.get(op.label, EXAMPLES), derandomize=True, deadline=None,
              database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        case.call_and_validate(
            headers={"Accept-Encoding": "identity"},
            excluded_checks=[positive_data_acceptance] if narrowed else None,
            additional_checks=[accepted_unless_dependent] if narrowed else None)

    check()


pytestmark = pytest.mark.slow  # about a minute of CPU in all: make test, not make check
SHARDS = 8  # the operations split eight ways, so pytest-xdist spreads them over its workers


@pytest.mark.parametrize("shard", range(SHARDS))
def test_api_matches_its_document(fuzz_app, shard):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15  # every documented operation, in one shard or another
    failures, ran = [], 0
    for op in operations[shard::SHARDS]:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            ran += 1
            try:
                run_operation(op, mode)
            except (Exception, BaseExceptionGroup) as exc:  # gather every operation's failures
                failures.append(f"{op.label} [{mode.value}]: {str(exc)[:1500]}")
    assert ran >= 2 * (len(operations) // SHARDS)  # this shard's operations, both ways
    assert not failures, "\n\n".join(failures)
