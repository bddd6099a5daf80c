"""The channels component's façade: what other components call.

- `register_template(key, purpose, texts)` with `TemplateText(subject, body, html=None)`;
- `enqueue_message(...)` → `MessageRead`: to a customer, through consent, preferred channel,
  quiet hours, cap and fallback; `enqueue_messages(tenant_id, purpose, template_key,
  [MessageRequest(customer_id, context, idempotency_key, related)])` → `list[MessageRead]`:
  the same for many customers, read and written set-based (a campaign's audience);
- `enqueue_staff_message(tenant_id, template_key, context, staff_id=… | user_id=…,
  media=("sms", "email"), urgent=False)` → `list[MessageRead]`: to the dealer's own staff,
  one message per medium that reaches them (phone from the staff record, e-mail from the
  user), purpose "staff": no consent rules or cap, quiet hours only when not urgent;
- events emitted: `message.sent`, `message.delivered`, `message.failed`, `message.replied`
  (payload: message_id, customer_id, channel, purpose, related, and for replies only the
  classification "stop" / "digit:N" / "other"), `sms.reply_digit` (message_id, customer_id,
  digit, related);
- third parties' inbound webhooks are announced as `inbound.call_outcome` /
  `inbound.repair_order` / `inbound.other` (source_id, receipt_id, type); read the payload
  with `get_inbound_receipt(tenant_id, receipt_id)`.
"""

from dealerhub.channels.messages.schemas import MessageDetail, MessageRead
from dealerhub.channels.messages.service import (
    MessageRejected,
    MessageRequest,
    enqueue_message,
    enqueue_messages,
    enqueue_staff_message,
    get_message,
    list_messages,
)
from dealerhub.channels.messages.templates import (
    TemplateError,
    TemplateText,
    TemplateVariableMissing,
    register_template,
)
from dealerhub.channels.plugin import Channel
from dealerhub.channels.webhooks.service import get_inbound_receipt

__all__ = [
    "Channel",
    "MessageDetail",
    "MessageRead",
    "MessageRejected",
    "MessageRequest",
    "TemplateError",
    "TemplateText",
    "TemplateVariableMissing",
    "enqueue_message",
    "enqueue_messages",
    "enqueue_staff_message",
    "get_inbound_receipt",
    "get_message",
    "list_messages",
    "register_template",
]
