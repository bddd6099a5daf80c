"""Negative feedback → complaint: the responsible person, the alert, every SLA (interim
answer in 3 days, a call within 2 days after resolution, GM review, escalation of major
quality complaints, closing only on the customer's confirmation) and who may edit what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.channels.messages.tables import Message
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers import service as answers
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.complaints.tables import Alert, Complaint, Escalation
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.conftest import create_regional_manager
from tests.survey.conftest import payloads, visited_customer

pytestmark = pytest.mark.anyio
CS = complaints.Actor(None, "cs_agent")
ADVISOR = complaints.Actor(None, "service_advisor")


async def _open(dealer, severity: str = "normal", concerned: uuid.UUID | None = None,
                at: datetime | None = None) -> Complaint:
    visited = await visited_customer(dealer.id)
    async with tenant_scope(dealer.id):
        return await complaints.open_complaint(
            visited.customer_id, "车修了两次还在响", source="survey", severity=severity,
            concerned_staff_id=concerned, now=at or datetime.now(UTC))


async def _get(dealer, complaint_id) -> Complaint:
    async with tenant_scope(dealer.id, write=False):
        return await Complaint.get_in_tenant(complaint_id)


async def _manager(dealer) -> uuid.UUID:
    staff = await create_staff(dealer.id, StaffCreate(
        name="服务经理", kind="service_manager", user_id=dealer.users["dealer_admin"]))
    return staff.id


async def test_opening_assigns_the_manager_alerts_and_sets_the_interim_deadline(dealer_a) -> None:
    manager = await _manager(dealer_a)
    now = datetime.now(UTC)
    row = await _open(dealer_a, at=now)
    assert row.responsible_staff_id == manager and row.status == "open"
    assert row.interim_due_at == now + timedelta(days=3)
    async with tenant_scope(dealer_a.id, write=False):
        alert = await Alert.objects_in_tenant().where(Alert.complaint_id == row.id).first()
        mail = await Message.objects_in_tenant().where(
            Message.staff_user_id == dealer_a.users["dealer_admin"]).first()
    assert alert.kind == "negative_feedback" and mail.template_key == complaints.ALERT_TEMPLATE
    opened = [p for p in await payloads(dealer_a.id, "complaint.opened")
              if p["complaint_id"] == str(row.id)]
    assert opened[0]["interim_due_at"] and opened[0]["opened_at"]


async def test_interim_answer_in_time_is_no_breach_and_late_is_one(dealer_a) -> None:
    now = datetime.now(UTC)
    answered, late = await _open(dealer_a, at=now), await _open(dealer_a, at=now)
    await complaints.interim_answer(dealer_a.id, answered.id, "配件已订，周五到", ADVISOR,
                                    now=now + timedelta(days=1))
    check_at = now + timedelta(days=3, minutes=1)
    assert await complaints.check_slas_for_dealer(dealer_a.id, check_at) == 1
    assert await complaints.check_slas_for_dealer(dealer_a.id, check_at) == 0  # once
    assert (await _get(dealer_a, late.id)).interim_breached_at == check_at
    assert (await _get(dealer_a, answered.id)).interim_breached_at is None
    breaches = [p for p in await payloads(dealer_a.id, "complaint.sla_breached")
                if p["complaint_id"] == str(late.id)]
    assert breaches[0]["sla"] == "interim"
    interim = [p for p in await payloads(dealer_a.id, "complaint.interim_answered")
               if p["complaint_id"] == str(answered.id)]
    assert interim[0]["interim_answered_at"]


async def test_resolution_needs_a_call_within_two_days(dealer_a) -> None:
    now = datetime.now(UTC)
    called, missed = await _open(dealer_a, at=now), await _open(dealer_a, at=now)
    for row in (called, missed):
        await complaints.interim_answer(dealer_a.id, row.id, "处理中", ADVISOR, now=now)
        resolved = await complaints.resolve(dealer_a.id, row.id, "更换了减震器", ADVISOR, now=now)
        assert resolved.callback_due_at == now + timedelta(days=2)
        assert resolved.status == "resolved" and resolved.confirm_invitation_id
    await complaints.record_callback(dealer_a.id, called.id, None, "客户说还行", CS,
                                     now=now + timedelta(days=1))
    assert await complaints.check_slas_for_dealer(dealer_a.id, now + timedelta(days=2, hours=1)) \
        == 1
    assert (await _get(dealer_a, missed.id)).callback_breached_at is not None
    assert (await _get(dealer_a, called.id)).callback_breached_at is None
    assert [p for p in await payloads(dealer_a.id, "callback.completed")
            if p.get("complaint_id") == str(called.id)]


async def _answer_confirmation(dealer, row: Complaint, value: str) -> None:
    now = datetime.now(UTC)
    async with tenant_scope(dealer.id):
        invitation = await Invitation.objects_in_tenant().where(
            Invitation.id == row.confirm_invitation_id).output(load_json=True).first()
        assert invitation.kind == "confirm"
        await triggers.send_invitation(invitation, now)
    await answers.submit(triggers.survey_token(dealer.id, invitation.id),
                         {"complaint.resolved_ok": value}, answers.Submission())


async def test_closes_only_when_the_customer_confirms(dealer_a, bank) -> None:
    happy, unhappy = await _open(dealer_a), await _open(dealer_a)
    for row in (happy, unhappy):
        await complaints.resolve(dealer_a.id, row.id, "已处理", ADVISOR)
    assert (await _get(dealer_a, happy.id)).status == "resolved"  # not closed by the dealer
    await _answer_confirmation(dealer_a, await _get(dealer_a, happy.id), "1")
    await _answer_confirmation(dealer_a, await _get(dealer_a, unhappy.id), "0")
    confirmed, reopened = await _get(dealer_a, happy.id), await _get(dealer_a, unhappy.id)
    assert confirmed.status == "confirmed" and confirmed.recovered is True
    assert confirmed.confirmed_at is not None
    assert reopened.status == "reopened" and reopened.recovered is False
    board = await complaints.board(dealer_a.id)
    assert board.recovery_rate == 0.5
    assert [p for p in await payloads(dealer_a.id, "complaint.confirmed")
            if p["complaint_id"] == str(happy.id)]


async def test_general_manager_review(dealer_a) -> None:
    row = await _open(dealer_a)
    with pytest.raises(complaints.NotAllowed):
        await complaints.review(dealer_a.id, row.id, "ok", CS)
    gm = complaints.Actor(dealer_a.users["dealer_admin"], "dealer_admin")
    reviewed = await complaints.review(dealer_a.id, row.id, "已阅，加强培训", gm)
    assert reviewed.gm_reviewed_at is not None
    assert [p for p in await payloads(dealer_a.id, "complaint.reviewed")
            if p["complaint_id"] == str(row.id)]


async def test_major_quality_escalates_at_once(dealer_a) -> None:
    gm = await create_staff(dealer_a.id, StaffCreate(
        name="总经理", kind="general_manager", user_id=dealer_a.users["dealer_admin"]))
    regional = await create_regional_manager(dealer_a.region_id)
    elsewhere = await create_regional_manager()
    row = await _open(dealer_a, severity="major_quality")
    assert row.escalated_at is not None
    escalation = await Escalation.objects().where(Escalation.complaint_id == row.id).first()
    assert escalation.tenant_id == dealer_a.id and escalation.region_id == dealer_a.region_id
    async with tenant_scope(dealer_a.id, write=False):
        kinds = {a.kind for a in await Alert.objects_in_tenant().where(
            Alert.complaint_id == row.id)}
        mails = await Message.count_in_tenant().where(
            Message.staff_user_id == dealer_a.users["dealer_admin"],
            Message.template_key == complaints.ESCALATION_TEMPLATE)
    assert "escalation" in kinds and mails >= 1 and gm
    async with tenant_scope(dealer_a.id, write=False):
        to_region = await Message.objects_in_tenant().where(
            Message.staff_user_id.is_in([regional, elsewhere]))
    assert [(m.staff_user_id, m.template_key) for m in to_region] == [
        (regional, complaints.REGION_ESCALATION_TEMPLATE)]  # e-mail: OEM users have no phone
    assert dealer_a.code in to_region[0].body and "车修了两次" not in to_region[0].body
    assert [p for p in await payloads(dealer_a.id, "complaint.escalated")
            if p["complaint_id"] == str(row.id)]


async def test_cs_records_complaints_from_calls_and_advisors_cannot(dealer_a) -> None:
    visited = await visited_customer(dealer_a.id)
    row = await complaints.record_from_call(dealer_a.id, visited.customer_id, "电话里说很不满",
                                            "normal", CS)
    assert row.source == "call"
    with pytest.raises(complaints.NotAllowed):
        await complaints.record_from_call(dealer_a.id, visited.customer_id, "x", "normal",
                                          ADVISOR)
    with pytest.raises(Exception, match="verbatim"):
        await complaints.record_from_call(dealer_a.id, visited.customer_id, "字" * 2001,
                                          "normal", CS)


async def test_the_staff_concerned_cannot_edit_the_cs_record(dealer_a) -> None:
    concerned = await create_staff(dealer_a.id, StaffCreate(
        name="顾问", kind="service_advisor", user_id=dealer_a.users["cs_agent"]))
    row = await _open(dealer_a, concerned=concerned.id)
    await complaints.resolve(dealer_a.id, row.id, "已处理", ADVISOR)
    himself = complaints.Actor(dealer_a.users["cs_agent"], "cs_agent")
    with pytest.raises(complaints.NotAllowed, match="concerns"):
        await complaints.record_callback(dealer_a.id, row.id, True, "满意", himself)
    with pytest.raises(complaints.NotAllowed):
        await complaints.record_callback(dealer_a.id, row.id, True, "满意", ADVISOR)
    done = await complaints.record_callback(dealer_a.id, row.id, True, "满意", CS)
    assert done.status == "confirmed"
