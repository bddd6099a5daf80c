"""Field rules shared by forms, API and imports."""

from __future__ import annotations

from datetime import date

import pytest

from dealerhub.tenants.fields import Cleaner, InvalidInput, normalise_phone, vin_problem
from dealerhub.tenants.months import add_months


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "LJ12EKR2XG4912345"])
def test_vin_check_digit(vin: str) -> None:
    problem = vin_problem(vin)
    assert problem is None or "check digit" in problem


def test_vin_errors_are_clear() -> None:
    assert vin_problem("1M8GDM9AXKP042788") is None
    assert "expected X" in vin_problem("1M8GDM9A1KP042788")
    assert "17 characters" in vin_problem("1M8GDM9AXKP04278")
    assert "I, O and Q" in vin_problem("1M8GDM9AXKP04278O")


def test_phone_numbers_become_e164() -> None:
    assert normalise_phone("138 0013 8000") == "+8613800138000"
    assert normalise_phone("+86-139-0000-0004") == "+8613900000004"
    assert normalise_phone("+1 650 253 0000") == "+16502530000"
    for bad in ("12345", "abc", "+86 000"):
        with pytest.raises(ValueError):
            normalise_phone(bad)


def test_cleaner_collects_every_error() -> None:
    clean = Cleaner({"a": "-5", "d": "2999-01-01", "n": "x", "e": "nope"}, today=date(2026, 1, 1))
    assert clean.amount("a") is None
    assert clean.date("d", not_future=True) is None
    assert clean.integer("n") is None
    assert clean.email("e") is None
    assert clean.text("missing", required=True) is None
    with pytest.raises(InvalidInput) as refused:
        clean.done()
    assert [e.field for e in refused.value.errors] == ["a", "d", "n", "e", "missing"]
    assert "negative" in refused.value.errors[0].reason


def test_months_clamp_to_month_end() -> None:
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), -12) == date(2023, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
