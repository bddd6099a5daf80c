"""Segments compile to one query; bad definitions are refused naming the rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dealerhub.platform.campaigns.segments import service
from dealerhub.tenants.customers.service import record_consent
from dealerhub.tenants.fields import InvalidInput
from tests.platform.campaigns.conftest import vehicle_with

pytestmark = pytest.mark.anyio


async def test_vehicle_and_person_rules_combine(dealer_a):
    today = date.today()
    await vehicle_with(dealer_a.id, {"gender": "female", "city": "上海",
                                     "customer_type": "value"},
                       model_code="A6", purchase_date=today - timedelta(days=5 * 365),
                       warranty_end=today + timedelta(days=20))
    await vehicle_with(dealer_a.id, {"gender": "male", "city": "上海"}, model_code="A6",
                       purchase_date=today - timedelta(days=365))
    await vehicle_with(dealer_a.id, {"gender": "female", "city": "北京"}, model_code="Q5")
    definition = {"rules": [{"field": "model", "op": "in", "values": ["A6"]},
                            {"field": "city", "op": "in", "values": ["上海"]}]}
    assert await service.count_segment(dealer_a.id, definition) == 2
    definition["rules"].append({"field": "vehicle_age_years", "op": "between", "min": 3})
    assert await service.count_segment(dealer_a.id, definition) == 1
    definition["rules"].append({"field": "warranty_ends_in_days", "op": "between",
                                "min": 0, "max": 30})
    definition["rules"].append({"field": "customer_type", "op": "in", "values": ["value"]})
    assert await service.count_segment(dealer_a.id, definition) == 1


async def test_consent_rule_and_other_dealers_never_counted(dealer_a, dealer_b):
    customer, _ = await vehicle_with(dealer_a.id)
    await vehicle_with(dealer_a.id)
    other, _ = await vehicle_with(dealer_b.id)
    await record_consent(dealer_a.id, customer.id, "marketing", "sms", True, "test")
    await record_consent(dealer_b.id, other.id, "marketing", "sms", True, "test")
    consent = {"rules": [{"field": "consent", "op": "in", "values": ["marketing"]}]}
    assert await service.count_segment(dealer_a.id, consent) == 1


@pytest.mark.parametrize(("rules", "field"), [
    ([{"field": "shoe_size", "op": "in", "values": ["42"]}], "rules[0].field"),
    ([{"field": "model", "op": "between", "min": 1}], "rules[0].op"),
    ([{"field": "mileage_km", "op": "between", "min": 9000, "max": 10}], "rules[0].max"),
    ([{"field": "gender", "op": "in", "values": ["male"]},
      {"field": "gender", "op": "in", "values": ["female"]}], "rules[1]"),
    ([{"field": "gender", "op": "in", "values": ["robot"]}], "rules[0].values"),
    ([{"field": "declined_work", "op": "is"}], "rules[0].value"),
])
async def test_bad_definitions_name_the_rule(dealer_a, rules, field):
    with pytest.raises(InvalidInput) as refused:
        await service.count_segment(dealer_a.id, {"rules": rules})
    assert refused.value.errors[0].field == field


async def test_unknown_keys_in_a_rule_are_refused(dealer_a):
    with pytest.raises(InvalidInput) as refused:
        await service.count_segment(dealer_a.id, {"rules": [{"field": "model", "op": "in",
                                                             "values": ["A"], "colour": "red"}]})
    assert refused.value.errors[0].field == "definition"


def test_builder_form_becomes_a_definition():
    definition = service.definition_from_form(
        {"model": "A6, Q5", "mileage_km_min": "1000", "mileage_km_max": "", "declined_work":
         "true", "gender": ""})
    assert [(r.field, r.op) for r in definition.rules] == [
        ("model", "in"), ("mileage_km", "between"), ("declined_work", "is")]
    with pytest.raises(InvalidInput) as refused:
        service.definition_from_form({"daily_km_max": "lots"})
    assert refused.value.errors[0].field == "daily_km_max"
