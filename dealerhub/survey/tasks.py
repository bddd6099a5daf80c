"""Background work and registrations: event consumers (quick-review triggers, touchpoint
schedules, SMS digit answers), the scheduler's due-row claims, message templates and the
customer timeline sources."""

from __future__ import annotations

from datetime import datetime

from dealerhub.channels import service as channels
from dealerhub.channels.service import TemplateText
from dealerhub.platform import events, jobs
from dealerhub.survey import timeline as _timeline  # noqa: F401 - registers timeline sources
from dealerhub.survey.answers import service as answers
from dealerhub.survey.common import as_uuid, aware, utcnow
from dealerhub.survey.complaints import service as complaints
from dealerhub.survey.touchpoints import service as touchpoints
from dealerhub.survey.triggers import service as triggers

TRIGGER_EVENTS = ("repair_order.closed", "appointment.completed", "complaint.resolved")

channels.register_template(triggers.INVITATION_TEMPLATE, "service", {
    "zh-CN": TemplateText(
        "服务评价",
        "{{ customer_name }}您好，感谢您的光临。{% if question_zh %}{{ question_zh }}"
        "请回复{{ scale }}的数字，或{% endif %}点击链接完成两三道小问题：{{ url }}"),
    "en": TemplateText(
        "How did we do?",
        "Hello {{ customer_name }}, thank you for your visit. {% if question_en %}"
        "{{ question_en }} Reply with a number {{ scale }}, or {% endif %}answer two or three "
        "quick questions here: {{ url }}"),
})
channels.register_template(triggers.QUESTION_TEMPLATE, "service", {
    "zh-CN": TemplateText(None, "{{ question_zh }}请回复{{ scale }}的数字。"),
    "en": TemplateText(None, "{{ question_en }} Reply with a number {{ scale }}."),
})
channels.register_template(touchpoints.MESSAGE_TEMPLATE, "service", {
    "zh-CN": TemplateText("{{ topic_zh }}",
                          "{{ customer_name }}您好，{{ topic_zh }}：欢迎随时联系我们。"),
    "en": TemplateText("{{ topic_en }}", "Hello {{ customer_name }}: {{ topic_en }}. "
                                         "We are here whenever you need us."),
})
channels.register_template(complaints.ALERT_TEMPLATE, "service", {
    "zh-CN": TemplateText("客户差评提醒",
                          "{{ user.name }}：客户反馈不满意，请立即处理。\n{{ text }}\n"
                          "{{ complaint_url }}"),
    "en": TemplateText("Negative customer feedback", "{{ user.name }}: a customer is unhappy, "
                       "please act now.\n{{ text }}\n{{ complaint_url }}"),
})
channels.register_template(complaints.ESCALATION_TEMPLATE, "service", {
    "zh-CN": TemplateText("重大质量投诉", "{{ user.name }}：重大质量投诉已升级。\n{{ text }}\n"
                                    "{{ complaint_url }}"),
    "en": TemplateText("Major quality complaint", "{{ user.name }}: a major quality complaint "
                       "was escalated.\n{{ text }}\n{{ complaint_url }}"),
})


async def quick_review(event: events.Event) -> None:
    await triggers.trigger(event)


for _event_type in TRIGGER_EVENTS:
    events.consumer(_event_type, "survey.trigger")(quick_review)


@events.consumer("repair_order.closed", "survey.touchpoints")
async def schedule_touchpoints(event: events.Event) -> None:
    customer_id = as_uuid(event.payload.get("customer_id"))
    closed_at = event.payload.get("closed_at")
    if customer_id is None:
        return
    at = aware(datetime.fromisoformat(closed_at)) if closed_at else event.occurred_at
    await touchpoints.schedule_after_visit(
        customer_id, as_uuid(event.payload.get("repair_order_id")), at)


@events.consumer("repair_order.opened", "survey.touchpoints_cancel")
async def cancel_touchpoints(event: events.Event) -> None:
    customer_id = as_uuid(event.payload.get("customer_id"))
    if customer_id is not None:
        await touchpoints.cancel_pending(customer_id, "the customer came back", utcnow())


@events.consumer("sms.reply_digit", "survey.sms_digit")
async def sms_digit(event: events.Event) -> None:
    related = event.payload.get("related") or {}
    invitation_id = as_uuid(related.get("survey_invitation_id"))
    if invitation_id is None or event.tenant_id is None:
        return
    await answers.record_digit(event.tenant_id, invitation_id, int(event.payload["digit"]))


@jobs.periodic("survey.claim_due_invitations", every_seconds=30)
async def claim_due_invitations() -> int:
    return await triggers.claim_due()


@jobs.periodic("survey.claim_due_touchpoints", every_seconds=60)
async def claim_due_touchpoints() -> int:
    return await touchpoints.claim_due()


@jobs.periodic("survey.check_complaint_slas", every_seconds=300)
async def check_complaint_slas() -> int:
    return await complaints.check_slas()


