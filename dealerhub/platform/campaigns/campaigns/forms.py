"""The campaign form of the portal, read into the same `CampaignCreate` the API takes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from dealerhub.platform.campaigns.campaigns.schemas import CampaignCreate
from dealerhub.tenants.fields import FieldError, InvalidInput

TEXT_VARIANTS = ("zh-CN", "en", "zh-CN:value", "zh-CN:convenience", "zh-CN:relationship")


def _optional_int(form: Mapping[str, Any], name: str) -> int | None:
    text = str(form.get(name) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput([FieldError(name, "must be a whole number")]) from None


def campaign_from_form(form: Mapping[str, Any], zone: ZoneInfo) -> CampaignCreate:
    """`starts_at` is the dealer's local wall time from a datetime-local input."""
    try:
        starts_at = datetime.fromisoformat(str(form.get("starts_at") or "")).replace(tzinfo=zone)
    except ValueError:
        raise InvalidInput([FieldError("starts_at", "give a date and time")]) from None
    source = str(form.get("source") or "")
    segment_id, due_reason = None, None
    if source.startswith("segment:"):
        try:
            segment_id = uuid.UUID(source.removeprefix("segment:"))
        except ValueError:
            raise InvalidInput([FieldError("segment_id", "no such segment")]) from None
    elif source.startswith("due:"):
        due_reason = source.removeprefix("due:")
    texts = {variant: {"body": str(form.get(f"text_{variant}") or "").strip()}
             for variant in TEXT_VARIANTS if str(form.get(f"text_{variant}") or "").strip()}
    raw = {"name": str(form.get("name") or "").strip(), "texts": texts,
           "starts_at": starts_at, "segment_id": segment_id, "due_reason": due_reason,
           "purpose": str(form.get("purpose") or "marketing"),
           "second_contact_after_days": _optional_int(form, "second_contact_after_days"),
           "nudge_after_days": _optional_int(form, "nudge_after_days"),
           "hold_out_percent": _optional_int(form, "hold_out_percent") or 0,
           "booking_window_days": _optional_int(form, "booking_window_days") or 14,
           "throttle_to_capacity": str(form.get("throttle_to_capacity") or "") in ("on", "true"),
           "minutes_per_visit": _optional_int(form, "minutes_per_visit") or 60}
    try:
        return msgspec.convert(raw, CampaignCreate, from_attributes=False, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rsplit("$.", 1)[-1].split("`")[0].split(".")[0].strip() or "form"
        raise InvalidInput([FieldError(field, str(error))]) from None
