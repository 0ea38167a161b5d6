"""Opening hours: split shifts, weekends, 24/7 and the next change."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from geo.hours import hours_error, is_open, next_change, open_mask

SPLIT = "Mo-Fr 08:30-11:00,13:30-17:00"
WEEKEND = "Mo-Fr 09:00-17:00; Sa 09:00-12:00"
TUE = datetime(2026, 11, 24)  # a Tuesday


def at(day: datetime, hh: int, mm: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm)


def test_split_shift_closes_over_lunch():
    assert is_open(SPLIT, at(TUE, 9))
    assert not is_open(SPLIT, at(TUE, 12))
    assert is_open(SPLIT, at(TUE, 14))
    assert not is_open(SPLIT, at(TUE, 21))
    assert next_change(SPLIT, at(TUE, 9)) == at(TUE, 11)
    assert next_change(SPLIT, at(TUE, 12)) == at(TUE, 13, 30)


def test_split_shift_closed_at_weekend_reopens_monday():
    sat = datetime(2026, 11, 28, 10)
    assert not is_open(SPLIT, sat)
    assert next_change(SPLIT, sat) == datetime(2026, 11, 30, 8, 30)


def test_saturday_morning_rule():
    assert is_open(WEEKEND, datetime(2026, 11, 28, 10))
    assert not is_open(WEEKEND, datetime(2026, 11, 28, 13))
    assert not is_open(WEEKEND, datetime(2026, 11, 29, 10))  # Sunday


def test_24_7_is_always_open_and_never_changes():
    assert is_open("24/7", at(TUE, 3))
    assert next_change("24/7", at(TUE, 3)) is None


def test_aware_times_are_read_in_shanghai():
    utc = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert is_open(SPLIT, utc)


def test_open_mask_evaluates_arrays():
    exprs = np.array(["24/7", SPLIT, WEEKEND, SPLIT])
    np.testing.assert_array_equal(open_mask(exprs, at(TUE, 12)), [True, False, True, False])


def test_invalid_expressions_are_explained():
    assert hours_error(SPLIT) is None
    assert "not valid" in hours_error("Mo-Fx 08:00-09:00")
    assert hours_error("") == "is empty"
