"""The events scoring reads, emitted by their real sources: act through the service, let
the relay and the worker deliver, and read the dealer's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform import events
from dealerhub.platform.appointments import service as appointments
from dealerhub.platform.appointments.schemas import AppointmentCreate
from dealerhub.platform.campaigns.campaigns import service as campaigns
from dealerhub.platform.scoring.tables import NO_STAFF, MetricFact
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers import service as answers
from dealerhub.survey.integrity.service import Submission
from dealerhub.survey.questions import service as questions
from dealerhub.survey.seed import seed_bank
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.service import question_refs
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.customers.schemas import TeamUpdate
from dealerhub.tenants.customers.service import set_team
from dealerhub.tenants.imports.service import import_rows
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from dealerhub.tenants.vehicles.schemas import VehicleUpdate
from dealerhub.tenants.vehicles.service import get_vehicle, update_vehicle
from tests.platform.appointments.conftest import build_shop, future_day
from tests.platform.campaigns.test_campaigns import _audience, _campaign, _recipients
from tests.survey.conftest import payloads, sent_invitation
from tests.tenants.factories import make_vin, new_customer, new_vehicle, visit

pytestmark = pytest.mark.anyio


async def settle(worker) -> None:
    """Relay and deliver until no consumer emits anything new (consumers emit events too)."""
    while await events.relay_once():
        worker.drain(timeout_ms=120_000)
    worker.drain(timeout_ms=120_000)


async def totals(dealer_id, metric_key: str, staff_id=NO_STAFF) -> tuple[float, float]:
    """The dealer's (or one staff member's) (numerator, denominator) over all days."""
    rows = await MetricFact.select(MetricFact.numerator, MetricFact.denominator).where(
        (MetricFact.dealer_id == dealer_id) & (MetricFact.metric_key == metric_key)
        & (MetricFact.staff_id == staff_id))
    return (sum(r["numerator"] for r in rows), sum(r["denominator"] for r in rows))


async def test_bookings_carry_the_request_channel_and_reminders_are_counted(
        database, jobs_worker, quiet_outbox) -> None:
    shop = await build_shop()
    now = datetime.now(UTC)
    asked = now - timedelta(minutes=45)  # answered 45 min later: SMS in time, e-mail late
    booked = []
    for hour, channel in ((9, "sms"), (11, "email")):
        booked.append((await appointments.book(shop.tenant_id, AppointmentCreate(
            vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(6), hour),
            job_codes=["OIL"], request_channel=channel, request_received_at=asked,
            first_response_at=now), channel="portal", actor="t")).appointment)
    assert [b.request_channel for b in booked] == ["sms", "email"]
    portal = (await appointments.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(6), 14),
        job_codes=["OIL"]), channel="portal", actor="t")).appointment
    assert portal.request_channel == "phone"  # an advisor taking a call
    # the 72 h reminders of the first two fall due; the third's is not due yet
    await appointments.claim_due_reminders(now=booked[1].starts_at - timedelta(hours=71))
    await settle(jobs_worker)
    assert await totals(shop.tenant_id, "response_sla") == (2.0, 3.0)
    assert await totals(shop.tenant_id, "reminder_72h") == (2.0, 3.0)
    assert await totals(shop.tenant_id, "reminder_24h") == (0.0, 3.0)


async def test_campaign_targets_and_first_conversions_are_counted(
        dealer_a, jobs_worker, quiet_outbox) -> None:
    now = datetime.now(UTC)
    segment_id = await _audience(dealer_a.id, consenting=2)
    campaign = await campaigns.create_campaign(dealer_a.id, _campaign(
        segment_id, starts_at=now, hold_out_percent=0), now=now)
    await campaigns.advance_campaigns(dealer_a.id, now)
    first, _second = await _recipients(dealer_a.id, campaign.id)
    vehicle = await get_vehicle(dealer_a.id, first.vehicle_id)
    await visit(dealer_a.id, vehicle, now + timedelta(minutes=5), amount="800")
    await settle(jobs_worker)
    await visit(dealer_a.id, vehicle, now + timedelta(minutes=8), amount="300")
    await settle(jobs_worker)  # a second visit converts nobody new
    assert await totals(dealer_a.id, "campaign_conversion") == (1.0, 2.0)


async def test_survey_answers_praise_and_criticise_the_advisor(
        dealer_a, jobs_worker, quiet_outbox) -> None:
    await seed_bank()
    row = await sent_invitation(dealer_a.id)
    advisor = await create_staff(dealer_a.id, StaffCreate(name="王顾问", kind="service_advisor"))
    asked = await questions.active_by_key(["reception.prompt", "delivery.explained"])
    async with tenant_scope(dealer_a.id):  # the advisor's steps, and the advisor on record
        await Invitation.update_in_tenant({
            Invitation.questions: question_refs(list(asked.values())),
            Invitation.advisor_staff_id: advisor.id}).where(Invitation.id == row.id)
    await answers.submit(triggers.survey_token(dealer_a.id, row.id),
                         {"reception.prompt": "5", "delivery.explained": "1"}, Submission())
    (answered,) = await payloads(dealer_a.id, "survey.answered")
    assert answered["praised_staff_ids"] == answered["criticised_staff_ids"] == [str(advisor.id)]
    await settle(jobs_worker)
    assert await totals(dealer_a.id, "staff_praise", advisor.id) == (1.0, 0.0)
    # criticised in the answer, and concerned by the complaint the negative answer opened
    assert await totals(dealer_a.id, "staff_criticism", advisor.id) == (2.0, 0.0)


async def test_insurance_dues_and_renewals_from_the_recorded_expiry(
        dealer_a, jobs_worker, quiet_outbox) -> None:
    insurer = await create_staff(dealer_a.id, StaffCreate(name="李保险", kind="insurance_advisor"))
    customer = await new_customer(dealer_a.id, external_id="INS-1")
    await set_team(dealer_a.id, customer.id, TeamUpdate(insurance_staff_id=insurer.id))
    today = datetime.now(UTC).date()
    first, renewed_to = today + timedelta(days=20), today + timedelta(days=385)
    # form/API path: a policy due in 20 days, then renewed here for a year
    vehicle = await new_vehicle(dealer_a.id, customer.id, insurance_expiry=first)
    await update_vehicle(dealer_a.id, vehicle.id, VehicleUpdate(insurance_expiry=renewed_to))
    await update_vehicle(dealer_a.id, vehicle.id,  # a correction to an earlier day counts nothing
                         VehicleUpdate(insurance_expiry=renewed_to - timedelta(days=1)))
    # import path (set-based): a new car's policy due, not renewed
    job = await import_rows(dealer_a.id, "vehicles", [
        {"external_id": "INS-V2", "customer_external_id": "INS-1", "vin": make_vin(),
         "insurance_expiry": (today + timedelta(days=40)).isoformat()}], None)
    assert job.applied_rows == 1
    await settle(jobs_worker)
    assert await totals(dealer_a.id, "insurance_renewal") == (1.0, 3.0)
    assert await totals(dealer_a.id, "insurance_renewal", insurer.id) == (1.0, 3.0)
