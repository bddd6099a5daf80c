"""The messages the survey component sends, registered with the channels on import."""

from __future__ import annotations

from dealerhub.channels import service as channels
from dealerhub.channels.service import TemplateText

INVITATION_TEMPLATE = "survey.invitation"
QUESTION_TEMPLATE = "survey.sms_question"
TOUCHPOINT_TEMPLATE = "survey.touchpoint"
ALERT_TEMPLATE = "survey.negative_alert"
ESCALATION_TEMPLATE = "survey.escalation_alert"
REGION_ESCALATION_TEMPLATE = "survey.escalation_region"

channels.register_template(INVITATION_TEMPLATE, "service", {
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
channels.register_template(QUESTION_TEMPLATE, "service", {
    "zh-CN": TemplateText(None, "{{ question_zh }}请回复{{ scale }}的数字。"),
    "en": TemplateText(None, "{{ question_en }} Reply with a number {{ scale }}."),
})
channels.register_template(TOUCHPOINT_TEMPLATE, "service", {
    "zh-CN": TemplateText("{{ topic_zh }}",
                          "{{ customer_name }}您好，{{ topic_zh }}：欢迎随时联系我们。"),
    "en": TemplateText("{{ topic_en }}", "Hello {{ customer_name }}: {{ topic_en }}. "
                                         "We are here whenever you need us."),
})
channels.register_template(ALERT_TEMPLATE, "service", {
    "zh-CN": TemplateText("客户差评提醒",
                          "{{ user.name }}：客户反馈不满意，请立即处理。\n{{ text }}\n"
                          "{{ complaint_url }}"),
    "en": TemplateText("Negative customer feedback", "{{ user.name }}: a customer is unhappy, "
                       "please act now.\n{{ text }}\n{{ complaint_url }}"),
})
channels.register_template(ESCALATION_TEMPLATE, "service", {
    "zh-CN": TemplateText("重大质量投诉", "{{ user.name }}：重大质量投诉已升级。\n{{ text }}\n"
                                    "{{ complaint_url }}"),
    "en": TemplateText("Major quality complaint", "{{ user.name }}: a major quality complaint "
                       "was escalated.\n{{ text }}\n{{ complaint_url }}"),
})
channels.register_template(REGION_ESCALATION_TEMPLATE, "service", {
    "zh-CN": TemplateText("经销商重大质量投诉",
                          "{{ user.name }}：{{ dealer_name }}的一起重大质量投诉已升级，请跟进。\n"
                          "{{ escalations_url }}"),
    "en": TemplateText("Major quality complaint at a dealer", "{{ user.name }}: a major quality "
                       "complaint at {{ dealer_name }} was escalated; please follow up.\n"
                       "{{ escalations_url }}"),
})
