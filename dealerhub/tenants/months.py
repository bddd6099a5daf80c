"""Calendar-month arithmetic for "12 months back" and "every 12 months" rules."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TypeVar

D = TypeVar("D", date, datetime)


def add_months(day: D, months: int) -> D:
    """The same day `months` later (or earlier), clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if day.day <= 28:  # every month has it (most days: imports call this per vehicle)
        return day.replace(year=year, month=month)
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))
