"""Segments: a definition compiles to one SQL query over the dealer's customers and
vehicles (never a per-customer loop); counting it is what the builder shows live."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from dealerhub.platform import db
from dealerhub.platform.campaigns.segments.fields import FIELDS, Condition, Today
from dealerhub.platform.campaigns.segments.schemas import Rule, SegmentDefinition
from dealerhub.platform.campaigns.segments.tables import Segment
from dealerhub.platform.directory import dealer_zone
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.fields import FieldError, InvalidInput

MAX_RULES = 30
MAX_VALUES = 200


@dataclass(frozen=True)
class CompiledSegment:
    """The conditions on `customer c` and on one of its vehicles `v`, with their
    arguments, for one dealer's day."""

    where: str
    args: tuple[object, ...]
    vehicle_where: str | None
    vehicle_args: tuple[object, ...]


def parse_definition(raw: SegmentDefinition | Mapping[str, Any]) -> SegmentDefinition:
    if isinstance(raw, SegmentDefinition):
        return raw
    try:
        return msgspec.convert(dict(raw), SegmentDefinition)
    except msgspec.ValidationError as error:
        raise InvalidInput([FieldError("definition", str(error))]) from None


def _check_rule(index: int, rule: Rule) -> list[FieldError]:
    where = f"rules[{index}]"
    field = FIELDS.get(rule.field)
    if field is None:
        return [FieldError(f"{where}.field", f"unknown field {rule.field!r}; known: "
                           + ", ".join(FIELDS))]
    if rule.op != field.op:
        return [FieldError(f"{where}.op", f"{rule.field} takes the operator {field.op!r}")]
    if field.op == "in":
        if not rule.values or len(rule.values) > MAX_VALUES:
            return [FieldError(f"{where}.values", f"give 1 to {MAX_VALUES} values")]
        unknown = [v for v in rule.values if field.choices and v not in field.choices]
        if unknown:
            return [FieldError(f"{where}.values", f"unknown {', '.join(unknown)}; choose from "
                               + ", ".join(field.choices))]
    if field.op == "between":
        if rule.min is None and rule.max is None:
            return [FieldError(f"{where}.min", "give a minimum, a maximum or both")]
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            return [FieldError(f"{where}.max", f"contradictory: minimum {rule.min:g} is above "
                               f"maximum {rule.max:g}")]
    if field.op == "is" and rule.value is None:
        return [FieldError(f"{where}.value", "give true or false")]
    return []


def _contradictions(rules: list[Rule]) -> list[FieldError]:
    """Two rules on one field that no customer can satisfy together."""
    errors: list[FieldError] = []
    seen: dict[str, tuple[int, Rule]] = {}
    for index, rule in enumerate(rules):
        if rule.field not in seen:
            seen[rule.field] = (index, rule)
            continue
        first_index, first = seen[rule.field]
        clash = (
            (rule.op == "in" and not set(first.values or []) & set(rule.values or []))
            or (rule.op == "is" and first.value != rule.value)
            or (rule.op == "between" and max(_low(first), _low(rule)) > min(_high(first),
                                                                           _high(rule)))
        )
        if clash:
            errors.append(FieldError(f"rules[{index}]", f"contradicts rules[{first_index}] on "
                                     f"{rule.field}: no customer can match both"))
    return errors


def _low(rule: Rule) -> float:
    return rule.min if rule.min is not None else float("-inf")


def _high(rule: Rule) -> float:
    return rule.max if rule.max is not None else float("inf")


def validate(definition: SegmentDefinition) -> None:
    if len(definition.rules) > MAX_RULES:
        raise InvalidInput([FieldError("rules", f"at most {MAX_RULES} rules")])
    errors = [e for i, rule in enumerate(definition.rules) for e in _check_rule(i, rule)]
    if errors:
        raise InvalidInput(errors)
    errors = _contradictions(definition.rules)
    if errors:
        raise InvalidInput(errors)


def compile_segment(definition: SegmentDefinition, today: Today) -> CompiledSegment:
    """The conditions on `customer c` and on one of its vehicles `v`."""
    validate(definition)
    person: list[Condition] = []
    vehicle: list[Condition] = []
    for rule in definition.rules:
        field = FIELDS[rule.field]
        assert field.compile is not None
        if field.op == "in":
            built = field.compile(rule.values, today)
        elif field.op == "between":
            built = field.compile(rule.min, rule.max, today)
        else:
            built = field.compile(rule.value, today)
        (vehicle if field.level == "vehicle" else person).append(built)
    where = " and ".join(["c.tenant_id = {}", "c.erased_at is null",
                          *(f"({c.sql})" for c in person)])
    return CompiledSegment(
        where, tuple(a for c in person for a in c.args),
        " and ".join(f"({c.sql})" for c in vehicle) if vehicle else None,
        tuple(a for c in vehicle for a in c.args))


def _vehicle_exists(compiled: CompiledSegment) -> str:
    return ("exists (select 1 from vehicle v where v.tenant_id = c.tenant_id and "
            f"v.customer_id = c.id and {compiled.vehicle_where})")


def count_sql(compiled: CompiledSegment, tenant_id: uuid.UUID) -> tuple[str, list[object]]:
    """One COUNT over the segment's customers."""
    if compiled.vehicle_where is None:
        return (f"select count(*) as n from customer c where {compiled.where}",
                [tenant_id, *compiled.args])
    return (f"select count(*) as n from customer c where {compiled.where} and "
            f"{_vehicle_exists(compiled)}",
            [tenant_id, *compiled.args, *compiled.vehicle_args])


def members_sql(compiled: CompiledSegment, tenant_id: uuid.UUID,
                columns: str = "c.id as customer_id") -> tuple[str, list[object]]:
    """One query over the segment's customers with `vehicle_id`, one of their vehicles that
    matches the vehicle rules (any vehicle when there are none)."""
    vehicle_where = compiled.vehicle_where or "1 = 1"
    vehicle = ("(select v.id from vehicle v where v.tenant_id = c.tenant_id and "
               f"v.customer_id = c.id and {vehicle_where} order by v.id limit 1)")
    sql = f"select {columns}, {vehicle} as vehicle_id from customer c where {compiled.where}"
    args: list[object] = [*compiled.vehicle_args, tenant_id, *compiled.args]
    if compiled.vehicle_where is not None:
        sql += f" and {_vehicle_exists(compiled)}"
        args += compiled.vehicle_args
    return sql, args


async def dealer_today(tenant_id: uuid.UUID, now: datetime | None = None) -> Today:
    zone = await dealer_zone(tenant_id)
    return Today((now or datetime.now(UTC)).astimezone(zone).date(), zone)


async def count_segment(tenant_id: uuid.UUID, raw: SegmentDefinition | Mapping[str, Any],
                        now: datetime | None = None) -> int:
    """How many customers the definition selects (one COUNT query)."""
    definition = parse_definition(raw)
    async with tenant_scope(tenant_id, write=False) as tid:
        compiled = compile_segment(definition, await dealer_today(tid, now))
        sql, args = count_sql(compiled, tid)
        if db.engine().engine_type == "postgres":
            # The builder counts the same definition again and again: after five runs of
            # one prepared statement PostgreSQL may switch to a generic plan, which cannot
            # see the values' selectivity (at 200,000 customers: a nested loop 4× slower
            # than the hash join planned for the actual values).
            await db.fetch("select set_config('plan_cache_mode', 'force_custom_plan', true)")
        rows = await db.fetch(sql, *args)
    return int(rows[0]["n"])


async def save_segment(tenant_id: uuid.UUID, name: str,
                       raw: SegmentDefinition | Mapping[str, Any]) -> Segment:
    definition = parse_definition(raw)
    validate(definition)
    if not name.strip():
        raise InvalidInput([FieldError("name", "give the segment a name")])
    async with tenant_scope(tenant_id):
        row = Segment(name=name.strip()[:100], definition=msgspec.to_builtins(definition))
        await Segment.insert_in_tenant(row)
    return row


async def get_segment(tenant_id: uuid.UUID, segment_id: uuid.UUID) -> Segment | None:
    async with tenant_scope(tenant_id, write=False):
        return await Segment.get_in_tenant(segment_id)


async def list_segments(tenant_id: uuid.UUID, *, page: int = 1, per_page: int = 25,
                        sort: str = "created_at", descending: bool = True
                        ) -> tuple[list[Segment], int]:
    column = Segment.name if sort == "name" else Segment.created_at
    async with tenant_scope(tenant_id, write=False):
        rows = await db.paged(Segment.objects_in_tenant().order_by(
            column, ascending=not descending), page, per_page).output(load_json=True)
        total = await Segment.count_in_tenant()
    return list(rows), total


def definition_from_form(form: Mapping[str, Any]) -> SegmentDefinition:
    """The portal builder's form: `<field>` (comma-separated values), `<field>_min`,
    `<field>_max`, or `<field>` = "true"/"false" for yes/no fields; empty inputs are ignored."""
    rules: list[Rule] = []
    errors: list[FieldError] = []
    for name, field in FIELDS.items():
        if field.op == "in":
            raw = form.get(name)
            values = raw if isinstance(raw, list) else str(raw or "").split(",")
            values = [v.strip() for v in values if v and v.strip()]
            if values:
                rules.append(Rule(name, "in", values=values))
        elif field.op == "between":
            bounds = {}
            for side in ("min", "max"):
                text = str(form.get(f"{name}_{side}") or "").strip()
                if text:
                    try:
                        bounds[side] = float(text)
                    except ValueError:
                        errors.append(FieldError(f"{name}_{side}", "must be a number"))
            if bounds:
                rules.append(Rule(name, "between", min=bounds.get("min"), max=bounds.get("max")))
        elif str(form.get(name) or "") in ("true", "false"):
            rules.append(Rule(name, "is", value=form.get(name) == "true"))
    if errors:
        raise InvalidInput(errors)
    return SegmentDefinition(rules=rules)
