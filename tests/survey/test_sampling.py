"""Choosing questions: 2–3, weighted, never one answered in the last 90 days; recontact
at most once per 14 days; the per-rule response quota; consent."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform import events
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.sampling import pick_questions
from dealerhub.survey.triggers.tables import Invitation, TriggerRule
from dealerhub.tenants.customers import service as customers
from tests.survey.conftest import run_consumer, visited_customer

pytestmark = pytest.mark.anyio
POOL = [("a", 1), ("b", 1), ("c", 1), ("d", 1), ("heavy", 20)]


def test_two_or_three_distinct_questions() -> None:
    rng = random.Random(1)
    sizes = Counter()
    for _ in range(500):
        chosen = pick_questions(POOL, set(), rng)
        assert 2 <= len(chosen) <= 3 and len(set(chosen)) == len(chosen)
        sizes[len(chosen)] += 1
    assert sizes[2] > 100 and sizes[3] > 100


def test_weights_decide_how_often_a_question_is_picked() -> None:
    rng = random.Random(2)
    counts = Counter(key for _ in range(1000) for key in pick_questions(POOL, set(), rng))
    assert counts["heavy"] > 900  # weight 20 of 24: nearly always among 2–3 draws
    assert max(counts[k] for k in "abcd") < counts["heavy"] / 2


def test_recently_answered_questions_are_never_picked() -> None:
    rng = random.Random(3)
    for _ in range(200):
        assert "heavy" not in pick_questions(POOL, {"heavy"}, rng)
    assert pick_questions(POOL, {"a", "b", "c", "heavy"}, rng) == []  # fewer than 2 left


async def _trigger_for(tenant_id, customer_id, now):
    async with tenant_scope(tenant_id):
        event_id = await events.emit("repair_order.closed", {"customer_id": customer_id})
    event = await events.load_event(event_id)
    async with tenant_scope(tenant_id):
        return await triggers.trigger(event, random.Random(4), now)


async def test_answered_in_90_days_is_excluded_but_older_is_not(dealer_a, bank) -> None:
    visited = await visited_customer(dealer_a.id)
    now = datetime.now(UTC)
    at = now + timedelta(days=15)
    rule = (await triggers.rules_for("repair_order.closed"))[0]
    pool_keys = [item["key"] for item in rule.pool]
    async with tenant_scope(dealer_a.id):
        old = Invitation(customer_id=visited.customer_id, status="answered", sent_at=now)
        await Invitation.insert_in_tenant(old)
        recent = [Answer(invitation_id=old.id, customer_id=visited.customer_id,
                         question_id=old.id, question_key=key, step="overall", kind="rating",
                         answered_at=at - timedelta(days=89)) for key in pool_keys[:-2]]
        stale = Answer(invitation_id=old.id, customer_id=visited.customer_id, question_id=old.id,
                       question_key=pool_keys[-2], step="overall", kind="rating",
                       answered_at=at - timedelta(days=91))
        await Answer.insert_in_tenant(*recent, stale)
    row = await _trigger_for(dealer_a.id, visited.customer_id, at)
    assert {q["key"] for q in row.questions} == set(pool_keys[-2:])


async def test_one_survey_per_customer_per_14_days(dealer_a, bank) -> None:
    visited = await visited_customer(dealer_a.id)
    now = datetime.now(UTC)
    first = await _trigger_for(dealer_a.id, visited.customer_id, now)
    assert first.status == "scheduled" and 2 <= len(first.questions) <= 3
    second = await _trigger_for(dealer_a.id, visited.customer_id, now)
    assert second.status == "suppressed" and "14 days" in second.reason
    async with tenant_scope(dealer_a.id):
        assert await triggers.send_invitation(first, now) == "sent"
    within = await _trigger_for(dealer_a.id, visited.customer_id, now + timedelta(days=13))
    assert within.status == "suppressed"
    after = await _trigger_for(dealer_a.id, visited.customer_id, now + timedelta(days=15))
    assert after.status == "scheduled"


async def test_the_rule_delay_then_the_scheduler_sends(dealer_a, bank) -> None:
    visited = await visited_customer(dealer_a.id)
    await run_consumer(dealer_a.id, "repair_order.closed", "survey.trigger")
    async with tenant_scope(dealer_a.id, write=False):
        row = await Invitation.objects_in_tenant().where(
            Invitation.customer_id == visited.customer_id).first()
    assert row.status == "scheduled"
    assert await triggers.claim_due_for_dealer(dealer_a.id, datetime.now(UTC)) == 0
    later = datetime.now(UTC) + timedelta(minutes=121)
    assert await triggers.claim_due_for_dealer(dealer_a.id, later) >= 1
    async with tenant_scope(dealer_a.id, write=False):
        row = await Invitation.get_in_tenant(row.id)
    assert row.status == "sent" and row.message_id is not None


async def test_response_quota_stops_sending(dealer_a, bank) -> None:
    rule = TriggerRule(name="quota", event_type="test.quota_event",
                       pool=[{"key": "overall.csat", "weight": 1},
                             {"key": "overall.nps", "weight": 1}], response_quota=1)
    await TriggerRule.insert(rule)
    try:
        one, two = (await visited_customer(dealer_a.id)), (await visited_customer(dealer_a.id))
        now = datetime.now(UTC)
        async with tenant_scope(dealer_a.id):
            await Invitation.insert_in_tenant(Invitation(
                customer_id=one.customer_id, rule_id=rule.id, status="answered",
                sent_at=now - timedelta(days=30)))
            event_id = await events.emit("test.quota_event", {"customer_id": two.customer_id})
        event = await events.load_event(event_id)
        async with tenant_scope(dealer_a.id):
            row = await triggers.trigger(event, random.Random(5), now)
        assert row.status == "suppressed" and row.reason == "response quota reached"
    finally:
        await TriggerRule.delete().where(TriggerRule.id == rule.id)


async def test_no_consent_means_not_sent_with_the_reason(dealer_a, bank) -> None:
    visited = await visited_customer(dealer_a.id)
    await customers.withdraw_consent(dealer_a.id, visited.customer_id, "service", "test")
    row = await _trigger_for(dealer_a.id, visited.customer_id, datetime.now(UTC))
    assert row.status == "suppressed" and row.reason == "no consent for service contact"
