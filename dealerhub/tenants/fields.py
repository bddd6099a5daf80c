"""Field rules shared by forms, the JSON API and DMS imports: one place says what a valid
phone, VIN, date or amount is, and every refusal names its field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from operator import mul
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

DEFAULT_PHONE_REGION = "CN"
CHANNELS = ("sms", "email", "voice", "wechat", "whatsapp", "letter")
PURPOSES = ("service", "marketing")
LOCALES = ("zh-CN", "en")
_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_CHARACTERS = frozenset(_VIN_VALUES)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
_PLATE_NOISE = re.compile(r"[\s·\-.]")
_YES = frozenset({"1", "true", "yes", "y", "是", "拒绝", "已拒绝"})
_NO = frozenset({"0", "false", "no", "n", "否", "无"})


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class InvalidInput(ValueError):
    """One or more fields are wrong; nothing was changed."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in self.errors))


def vin_check_digit(vin: str) -> str:
    """ISO 3779 / GB 16735 check digit (position 9) of a 17-character VIN."""
    if len(vin) != len(_VIN_WEIGHTS):
        raise ValueError(f"a VIN has {len(_VIN_WEIGHTS)} characters")
    total = sum(map(mul, map(_VIN_VALUES.__getitem__, vin), _VIN_WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: str) -> str | None:
    if len(vin) != 17:
        return f"a VIN has 17 characters, this one has {len(vin)}"
    if not _VIN_CHARACTERS.issuperset(vin):
        bad = sorted(set(vin) - _VIN_CHARACTERS)
        return f"a VIN cannot contain {', '.join(bad)} (I, O and Q are never used)"
    expected = vin_check_digit(vin)
    if vin[8] != expected:
        return f"check digit (9th character) is {vin[8]}, expected {expected}: mistyped VIN?"
    return None


def normalise_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164, or ValueError with the reason."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"not a phone number ({error._msg})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_plate(value: str) -> str:
    return _PLATE_NOISE.sub("", value).upper()


class Cleaner:
    """Reads raw values (strings from files and forms, or typed values from the API) and
    collects every field error instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, Any], today: date | None = None) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []
        self.today = today or date.today()

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(FieldError(name, reason))

    def present(self, name: str) -> bool:
        return name in self.raw

    def _value(self, name: str, required: bool) -> Any:
        """The value, stripped when text; None when missing or blank (every field of every
        imported row passes here: one strip, no helper calls)."""
        value = self.raw.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None and required:
            self.fail(name, "is required")
        return value

    def text(self, name: str, *, required: bool = False, max_length: int = 100) -> str | None:
        value = self._value(name, required)
        if value is None:
            return None
        value = str(value)
        if len(value) > max_length:
            self.fail(name, f"is longer than {max_length} characters")
            return None
        return value

    def choice(self, name: str, allowed: Iterable[str], *, required: bool = False,
               default: str | None = None) -> str | None:
        value = self._value(name, required)
        if value is None:
            return default
        allowed = tuple(allowed)
        text = str(value).lower() if str(value).lower() in allowed else str(value)
        if text not in allowed:
            self.fail(name, f"must be one of {', '.join(allowed)}")
            return None
        return text

    def phone(self, name: str) -> str | None:
        value = self._value(name, False)
        if value is None:
            return None
        try:
            return normalise_phone(str(value))
        except ValueError as error:
            self.fail(name, f"{value!s}: {error}")
            return None

    def email(self, name: str) -> str | None:
        value = self.text(name, max_length=254)
        if value is not None and not _EMAIL.match(value):
            self.fail(name, "is not an e-mail address")
            return None
        return value.lower() if value else None

    def vin(self, name: str = "vin") -> str | None:
        value = self._value(name, True)
        if value is None:
            return None
        vin = str(value).replace(" ", "").upper()
        problem = vin_problem(vin)
        if problem:
            self.fail(name, problem)
            return None
        return vin

    def plate(self, name: str = "plate") -> str | None:
        value = self.text(name, max_length=16)
        return normalise_plate(value) if value else None

    def date(self, name: str, *, required: bool = False, not_future: bool = False) -> date | None:
        value = self._value(name, required)
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.fail(name, f"{value!s} is not a date (use YYYY-MM-DD)")
            return None
        if not_future and parsed > self.today:
            self.fail(name, "cannot be in the future")
            return None
        return parsed

    def moment(self, name: str, zone: ZoneInfo, *, required: bool = False) -> datetime | None:
        """A point in time; one without an offset is the dealer's local time (DMS exports
        write local times), a bare date its local midnight."""
        value = self._value(name, required)
        if value is None:
            return None
        parsed = parse_moment(value, zone)
        if parsed is None:
            self.fail(name, f"{value!s} is not a date and time (use YYYY-MM-DD HH:MM)")
            return None
        if parsed.date() > self.today + timedelta(days=1):
            self.fail(name, "cannot be in the future")
            return None
        return parsed

    def coordinate(self, name: str, limit: float) -> float | None:
        """A latitude (limit 90) or longitude (limit 180) in decimal degrees."""
        value = self._value(name, False)
        if value is None:
            return None
        try:
            degrees = float(str(value))
        except ValueError:
            self.fail(name, f"{value!s} is not a number of degrees")
            return None
        if not -limit <= degrees <= limit:
            self.fail(name, f"must be between -{limit:g} and {limit:g}")
            return None
        return degrees

    def flag(self, name: str) -> bool:
        value = self._value(name, False)
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).strip().lower()
        if text in _YES or text in _NO:
            return text in _YES
        self.fail(name, f"{value!s} is not yes or no")
        return False

    def integer(self, name: str, *, required: bool = False, minimum: int = 0,
                maximum: int = 10_000_000) -> int | None:
        value = self._value(name, required)
        if value is None:
            return None
        try:
            number = int(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            self.fail(name, f"{value!s} is not a whole number")
            return None
        if number < minimum or number > maximum:
            self.fail(name, f"must be between {minimum} and {maximum}")
            return None
        return number

    def amount(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._value(name, required)
        if value is None:
            return None
        try:
            number = Decimal(str(value)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            self.fail(name, f"{value!s} is not an amount")
            return None
        if number < 0:
            self.fail(name, "cannot be negative")
            return None
        if number >= Decimal("10000000000"):
            self.fail(name, "is too large")
            return None
        return number

    def text_list(self, name: str, *, max_length: int = 32) -> list[str]:
        value = self._value(name, False)
        if value is None:
            return []
        items = value if isinstance(value, list) else re.split(r"[;,，；|]", str(value))
        cleaned = [str(item).strip() for item in items if str(item).strip()]
        if any(len(item) > max_length for item in cleaned):
            self.fail(name, f"each item must be at most {max_length} characters")
            return []
        return cleaned

    def done(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if " " in text or "T" in text:
        text = re.split(r"[ T]", text)[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_moment(value: Any, zone: ZoneInfo) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = re.sub(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})",
                      lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", str(value).strip())
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            day = parse_date(text)
            if day is None:
                return None
            moment = datetime.combine(day, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
