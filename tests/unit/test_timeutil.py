"""Whole years of age, as a doctor reads them beside a patient's name."""

from datetime import date

import pytest

from app.timeutil import age_on


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1990, 5, 17), date(2026, 5, 16), 35),
        (date(1990, 5, 17), date(2026, 5, 17), 36),
        (date(1990, 5, 17), date(2026, 12, 31), 36),
        (date(2000, 2, 29), date(2026, 2, 28), 25),  # a leap-day birthday counts from 1 March
        (date(2000, 2, 29), date(2026, 3, 1), 26),
        (date(2000, 2, 29), date(2028, 2, 29), 28),
        (date(2026, 11, 22), date(2026, 11, 22), 0),
    ],
)
def test_age_on(born, day, age):
    assert age_on(born, day) == age
