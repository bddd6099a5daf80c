"""The message scoring sends, registered with the channels on import."""

from __future__ import annotations

from dealerhub.channels import service as channels
from dealerhub.channels.service import TemplateText

ANOMALY_TEMPLATE = "scoring.anomaly_alert"

channels.register_template(ANOMALY_TEMPLATE, "service", {
    "zh-CN": TemplateText(
        "指标异常：{{ metric_zh }}",
        "{{ user.name }}：{{ dealer_name }}的{{ metric_zh }}在{{ week }}这一周为{{ value }}，"
        "明显差于其前8周的常态（均值{{ usual }}）。\n{{ url }}"),
    "en": TemplateText(
        "Unusual week: {{ metric_en }}",
        "{{ user.name }}: {{ metric_en }} at {{ dealer_name }} was {{ value }} in the week of "
        "{{ week }}, well outside its usual band (8-week mean {{ usual }}).\n{{ url }}"),
})
