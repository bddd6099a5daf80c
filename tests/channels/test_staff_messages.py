"""Messages to the dealer's own staff: every medium that reaches them, no consent rules,
quiet hours only when not urgent; and the survey's negative-feedback alert end to end
(public page → complaint → portal alert + SMS over Twilio's SDK + e-mail through SES)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.channels import service as channels
from dealerhub.channels.messages.tables import Message
from dealerhub.channels.webhooks.service import DISABLED_TEMPLATE
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.complaints.tables import Alert, Complaint
from dealerhub.survey.seed import seed_bank
from dealerhub.survey.triggers import service as triggers
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.channels.conftest import deliver_outbox, new_phone, save_account
from tests.conftest import login_page_session
from tests.support.moto_server import CREDENTIALS, REGION

pytestmark = pytest.mark.anyio
CONTEXT = {"url": "https://hooks.example", "reason": "410"}
# 23:00 in Shanghai: quiet hours
LATE = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


async def _manager(dealer, *, phone: str | None = "new", user: bool = True):
    return await create_staff(dealer.id, StaffCreate(
        name="服务经理", kind="service_manager", phone=new_phone() if phone == "new" else phone,
        user_id=dealer.users["dealer_admin"] if user else None))


async def test_urgent_staff_message_goes_by_sms_and_email_at_once(dealer_a) -> None:
    staff = await _manager(dealer_a)
    sent = await channels.enqueue_staff_message(dealer_a.id, DISABLED_TEMPLATE, CONTEXT,
                                                staff_id=staff.id, urgent=True, now=LATE)
    async with tenant_scope(dealer_a.id, write=False):
        details = [await Message.get_in_tenant(m.id) for m in sent]
    assert [d.medium for d in details] == ["sms", "email"]
    assert details[0].to_address == staff.phone_e164
    assert details[1].to_address == dealer_a.emails["dealer_admin"]
    for detail in details:  # no consent was ever recorded for staff: none is needed
        assert detail.purpose == "staff" and detail.status == "queued"
        assert detail.not_before == LATE
        assert detail.staff_user_id == dealer_a.users["dealer_admin"] and "410" in detail.body
        assert detail.related["staff_id"] == str(staff.id)


async def test_quiet_hours_hold_what_is_not_urgent(dealer_a) -> None:
    (held,) = await channels.enqueue_staff_message(
        dealer_a.id, DISABLED_TEMPLATE, CONTEXT, user_id=dealer_a.users["dealer_admin"],
        media=("email",), now=LATE)
    assert held.not_before == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
    assert held.reason == "quiet hours → deferred"


async def test_only_the_media_that_reach_them(dealer_a) -> None:
    phone_only = await _manager(dealer_a, user=False)
    (sms,) = await channels.enqueue_staff_message(dealer_a.id, DISABLED_TEMPLATE, CONTEXT,
                                                  staff_id=phone_only.id, urgent=True)
    assert sms.medium == "sms" and sms.staff_user_id is None
    # a user with no staff record has no phone: e-mail only
    (mail,) = await channels.enqueue_staff_message(dealer_a.id, DISABLED_TEMPLATE, CONTEXT,
                                                   user_id=dealer_a.users["cs_agent"])
    assert mail.medium == "email"
    unreachable = await create_staff(dealer_a.id, StaffCreate(name="顾问", kind="service_advisor"))
    assert await channels.enqueue_staff_message(dealer_a.id, DISABLED_TEMPLATE, CONTEXT,
                                                staff_id=unreachable.id) == []


async def test_bad_staff_messages_name_the_argument(dealer_a, dealer_b) -> None:
    other = await _manager(dealer_b)
    cases = [
        ({}, "staff_id"),
        ({"staff_id": other.id, "user_id": dealer_a.users["dealer_admin"]}, "staff_id"),
        ({"staff_id": other.id}, "staff_id"),  # another dealer's staff is unknown here
        ({"user_id": dealer_b.users["dealer_admin"]}, "user_id"),
        ({"staff_id": uuid.uuid4(), "media": ("fax",)}, "media"),
    ]
    for kwargs, field in cases:
        with pytest.raises(channels.MessageRejected) as error:
            await channels.enqueue_staff_message(dealer_a.id, DISABLED_TEMPLATE, CONTEXT,
                                                 **kwargs)
        assert error.value.field == field, kwargs
    with pytest.raises(channels.MessageRejected) as error:
        await channels.enqueue_staff_message(dealer_a.id, "no.such", CONTEXT,
                                             staff_id=other.id)
    assert error.value.field == "template_key"


async def test_negative_survey_answer_alerts_the_manager_by_sms_email_and_portal(
        client, dealer_a, twilio_api, twilio_config, moto) -> None:
    from tests.survey.conftest import sent_invitation

    sender = f"alerts@{dealer_a.code.lower()}.example"
    moto.client("ses").verify_email_identity(EmailAddress=sender)
    await save_account(dealer_a.id, "twilio_sms", twilio_config)
    await save_account(dealer_a.id, "ses_email", {
        "region": REGION, "access_key_id": CREDENTIALS["aws_access_key_id"],
        "secret_access_key": CREDENTIALS["aws_secret_access_key"], "from_address": sender,
        "endpoint_url": moto.url})
    manager = await _manager(dealer_a)
    await seed_bank()
    invitation = await sent_invitation(dealer_a.id)
    words = "等了三个小时没人理"
    values = {f"q_{q['key']}": "1" for q in invitation.questions}
    values.update({k: "0" for k in values if k in ("q_estimate.clear", "q_repair.fixed")})
    values.update({k: words for k in values if k == "q_overall.comment"})
    values.update({k: "2" for k in values if k == "q_overall.nps"})
    path = f"/c/survey/{triggers.survey_token(dealer_a.id, invitation.id)}"
    await client.get(path)
    answered = await client.post(path, data={**values,
                                             "_csrf_token": client.cookies.get("dh_csrf")})
    assert answered.status_code == 200

    async with tenant_scope(dealer_a.id, write=False):
        complaint = await Complaint.objects_in_tenant().where(
            Complaint.invitation_id == invitation.id).first()
        assert await Alert.count_in_tenant().where(Alert.complaint_id == complaint.id) == 1
    await deliver_outbox(dealer_a.id, now=datetime.now(UTC) + timedelta(seconds=1))
    texts = [r for r in twilio_api.sent if r.form.get("To") == manager.phone_e164]
    assert len(texts) == 1 and "/complaints/" + str(complaint.id) in texts[0].form["Body"]
    async with tenant_scope(dealer_a.id, write=False):
        (mail,) = await Message.objects_in_tenant().where(
            (Message.medium == "email") & (Message.purpose == "staff"))
    assert mail.status == "sent" and mail.to_address == dealer_a.emails["dealer_admin"]
    assert any(m["id"] == mail.provider_id for m in moto.sent_emails())

    client.cookies.clear()
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    board = await client.get("/complaints")
    assert board.status_code == 200 and "alerts-h" in board.text
