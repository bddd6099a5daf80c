"""Reading the booking forms (portal and customer pages) into the API's request types, so
pages and API share one validation path."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

import msgspec

from dealerhub.platform.appointments._capacity import CapacityError
from dealerhub.platform.appointments.schemas import (
    AppointmentCreate,
    AvailabilityQuery,
    Intake,
)

INTAKE_FIELDS = ("problem", "location", "noise", "frequency", "conditions", "pickup_address")
FLAGS = ("loaner", "pickup", "mobile", "rework")
SLOTS_SHOWN = 100  # a whole day on a 15-minute grid


class MultiMapping(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getall(self, key: str, default: Any = None) -> list[Any]: ...


def _text(values: MultiMapping, name: str) -> str:
    return str(values.get(name) or "").strip()


def _float(values: MultiMapping, name: str) -> float | None:
    raw = _text(values, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise CapacityError(name, "must be a number") from None


def parse_uuid(raw: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise CapacityError(name, "is not a valid id") from None


def parse_datetime(raw: str, name: str) -> datetime:
    """`datetime-local` inputs send the dealer's wall time without an offset."""
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise CapacityError(name, "give a date and time such as 2026-12-01T09:30") from None


def parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise CapacityError("day", "give a date such as 2026-12-01") from None


def booking_fields(values: MultiMapping) -> dict[str, Any]:
    """What the booking form carries, as the template re-shows it."""
    return {
        "vehicle_id": _text(values, "vehicle_id"),
        "preferred_at": _text(values, "preferred_at"),
        "job_codes": [str(v) for v in values.getall("job_codes", []) if v],
        **{name: _text(values, name) for name in INTAKE_FIELDS},
        "pickup_latitude": _text(values, "pickup_latitude"),
        "pickup_longitude": _text(values, "pickup_longitude"),
        **{flag: bool(values.get(flag)) for flag in FLAGS},
    }


def convert(kind: type, raw: Mapping[str, Any]) -> Any:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as error:
        path = str(error).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(error) else "form"
        raise CapacityError(path, str(error)) from None


def _intake(values: MultiMapping) -> dict[str, Any]:
    return {**{name: _text(values, name) for name in INTAKE_FIELDS},
            "pickup_latitude": _float(values, "pickup_latitude"),
            "pickup_longitude": _float(values, "pickup_longitude")}


def availability_query(values: MultiMapping, vehicle_id: uuid.UUID | None = None,
                       preferred_at: datetime | None = None) -> AvailabilityQuery:
    intake = _intake(values)
    return convert(AvailabilityQuery, {
        "vehicle_id": str(vehicle_id or parse_uuid(_text(values, "vehicle_id"), "vehicle_id")),
        "preferred_at": (preferred_at or parse_datetime(_text(values, "preferred_at"),
                                                        "preferred_at")).isoformat(),
        "job_codes": booking_fields(values)["job_codes"], "problem": intake["problem"],
        "pickup_latitude": intake["pickup_latitude"],
        "pickup_longitude": intake["pickup_longitude"],
        **{flag: bool(values.get(flag)) for flag in FLAGS}, "limit": SLOTS_SHOWN,
    })


def appointment_create(values: MultiMapping,
                       vehicle_id: uuid.UUID | None = None) -> AppointmentCreate:
    return convert(AppointmentCreate, {
        "vehicle_id": str(vehicle_id or parse_uuid(_text(values, "vehicle_id"), "vehicle_id")),
        "starts_at": parse_datetime(_text(values, "starts_at"), "starts_at").isoformat(),
        "job_codes": booking_fields(values)["job_codes"],
        "intake": msgspec.to_builtins(convert(Intake, _intake(values))),
        **{flag: bool(values.get(flag)) for flag in FLAGS},
    })
