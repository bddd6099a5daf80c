"""Dealer campaigns: recipients chosen set-based from a segment or today's due list (only
consent-eligible customers, with a random hold-out group), contacted in steps through the
channel pipeline (first contact, a second after N days without an answer, then a nudge to
the self-service booking page), and credited with replies, bookings, visits and revenue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from dealerhub.channels import service as channels
from dealerhub.platform import db, events
from dealerhub.platform.appointments import service as appointments
from dealerhub.platform.campaigns.campaigns.schemas import (
    CampaignCreate,
    CampaignResults,
    GroupResult,
)
from dealerhub.platform.campaigns.campaigns.tables import Campaign, CampaignRecipient
from dealerhub.platform.campaigns.due_lists.rules import REASONS
from dealerhub.platform.campaigns.due_lists.service import OPEN_STATUSES, check_answer
from dealerhub.platform.campaigns.segments import service as segments
from dealerhub.platform.campaigns.sql import new_id, param, random_below
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.fields import FieldError, InvalidInput

PURPOSES = ("marketing", "service")
RESPONSES = ("accepted", "declined")
ACTIVE = ("pending", "contacted")
NUDGE_TEMPLATE = "campaigns.nudge"
SEND_BATCH = 200
PAST_TOLERANCE = timedelta(minutes=5)

channels.register_template(NUDGE_TEMPLATE, "marketing", {
    "zh-CN": channels.TemplateText(
        "预约提醒", "{{ customer_name }}您好，您可以通过此链接自助预约到店：{{ booking_url }}"),
    "en": channels.TemplateText(
        "Book your visit", "Hello {{ customer_name }}, book your visit here: {{ booking_url }}"),
})


def template_key(campaign_id: uuid.UUID) -> str:
    return f"campaign.{campaign_id}"


def _register_texts(campaign_id: uuid.UUID, purpose: str, texts: dict[str, Any]) -> None:
    """The campaign's own texts as a channel template (done again by whichever process sends)."""
    try:
        channels.register_template(template_key(campaign_id), purpose, {
            variant: channels.TemplateText(text.get("subject"), text["body"])
            for variant, text in texts.items()})
    except channels.TemplateError as error:
        raise InvalidInput([FieldError("texts", str(error))]) from None


def _consent_eligible(purpose: str) -> tuple[str, list[object]]:
    """Customers this purpose may reach: marketing needs an opt-in and no opt-out; service
    only no opt-out (the pipeline checks again at sending)."""
    withdrawn = ("not exists (select 1 from customer_consent w where w.tenant_id = c.tenant_id "
                 "and w.customer_id = c.id and w.purpose = {} and w.granted = {})")
    if purpose != "marketing":
        return withdrawn, [purpose, False]
    granted = ("exists (select 1 from customer_consent g where g.tenant_id = c.tenant_id and "
               "g.customer_id = c.id and g.purpose = {} and g.granted = {})")
    return f"{granted} and {withdrawn}", [purpose, True, purpose, False]


async def _audience_sql(tenant_id: uuid.UUID, data: CampaignCreate,
                        now: datetime) -> tuple[str, list[object]]:
    """A query of (customer_id, vehicle_id) for the campaign's audience."""
    if data.segment_id is not None:
        segment = await segments.Segment.get_in_tenant(data.segment_id)
        if segment is None:
            raise InvalidInput([FieldError("segment_id", "no such segment")])
        definition = segments.parse_definition(segment.definition)
        compiled = segments.compile_segment(definition, await segments.dealer_today(
            tenant_id, now))
        return segments.members_sql(compiled, tenant_id)
    due = "e.tenant_id = {} and e.reason = {} and e.status in ({}, {})"
    args = [tenant_id, data.due_reason, *OPEN_STATUSES]
    return (f"select d.customer_id, (select e.vehicle_id from due_list_entry e where {due} "
            "and e.customer_id = d.customer_id order by e.vehicle_id limit 1) as vehicle_id "
            f"from (select distinct e.customer_id from due_list_entry e where {due}) as d",
            [*args, *args])


def _check(data: CampaignCreate, now: datetime) -> None:
    errors = []
    if (data.segment_id is None) == (data.due_reason is None):
        errors.append(FieldError("segment_id", "choose either a segment or a due-list reason"))
    if data.due_reason is not None and data.due_reason not in REASONS:
        errors.append(FieldError("due_reason", f"must be one of {', '.join(REASONS)}"))
    if data.purpose not in PURPOSES:
        errors.append(FieldError("purpose", f"must be one of {', '.join(PURPOSES)}"))
    if not data.texts:
        errors.append(FieldError("texts", "give at least one text (zh-CN or en)"))
    if data.starts_at.tzinfo is None:
        errors.append(FieldError("starts_at", "give a time zone (e.g. 2026-12-01T09:00+08:00)"))
    elif data.starts_at < now - PAST_TOLERANCE:
        errors.append(FieldError("starts_at", "the schedule is in the past"))
    if errors:
        raise InvalidInput(errors)


async def create_campaign(tenant_id: uuid.UUID, data: CampaignCreate,
                          user_id: uuid.UUID | None = None, now: datetime | None = None,
                          oem_campaign_id: uuid.UUID | None = None) -> Campaign:
    """Create the campaign and choose its recipients in one set-based statement. Refused,
    with nothing written, when nobody in the audience may be contacted for the purpose."""
    now = now or datetime.now(UTC)
    _check(data, now)
    texts = {variant: msgspec.to_builtins(text) for variant, text in data.texts.items()}
    campaign = Campaign(
        name=data.name.strip(), purpose=data.purpose, segment_id=data.segment_id,
        due_reason=data.due_reason, texts=texts,
        second_contact_after_days=data.second_contact_after_days,
        nudge_after_days=data.nudge_after_days, hold_out_percent=data.hold_out_percent,
        booking_window_days=data.booking_window_days, starts_at=data.starts_at.astimezone(UTC),
        throttle_to_capacity=data.throttle_to_capacity, minutes_per_visit=data.minutes_per_visit,
        status="scheduled", created_by=user_id, oem_campaign_id=oem_campaign_id, created_at=now)
    _register_texts(campaign.id, data.purpose, texts)
    async with tenant_scope(tenant_id) as tid:
        audience, audience_args = await _audience_sql(tid, data, now)
        eligible, eligible_args = _consent_eligible(data.purpose)
        await Campaign.insert_in_tenant(campaign)
        rows = await db.fetch(
            f"with audience as ({audience}) insert into campaign_recipient "
            "(id, tenant_id, campaign_id, customer_id, vehicle_id, variant, hold_out, status, "
            f"next_step_at) select {new_id()}, c.tenant_id, {param('uuid')}, c.id, "
            "a.vehicle_id, c.locale || ':' || coalesce(c.customer_type, ''), "
            f"{random_below()}, 'pending', {param('timestamptz')} from audience a "
            "join customer c on c.tenant_id = {} and c.id = a.customer_id "
            f"where c.erased_at is null and {eligible} returning id",
            *audience_args, campaign.id, data.hold_out_percent,
            campaign.starts_at, tid, *eligible_args)
        if not rows:
            field = "segment_id" if data.segment_id else "due_reason"
            raise InvalidInput([FieldError(field, "nobody in this audience may be contacted "
                                           f"for {data.purpose} (consent)")])
        await CampaignRecipient.update_in_tenant({
            CampaignRecipient.status: "held_out", CampaignRecipient.next_step_at: None,
        }).where((CampaignRecipient.campaign_id == campaign.id)
                 & (CampaignRecipient.hold_out.eq(True)))
        campaign.recipients = len(rows)
        await Campaign.update_in_tenant({Campaign.recipients: len(rows)}).where(
            Campaign.id == campaign.id)
    return campaign


@dataclass(frozen=True)
class Step:
    number: int  # the contact this is: 1 first, 2 second, 3 nudge
    template: str
    next_after_days: int | None


def next_step(campaign: Campaign, made: int) -> Step | None:
    """The contact after `made` contacts: the second only when the campaign has one; the
    nudge to the self-service page last."""
    second, nudge = campaign.second_contact_after_days, campaign.nudge_after_days
    if made == 0:
        return Step(1, template_key(campaign.id), second or nudge)
    if made == 1 and second:
        return Step(2, template_key(campaign.id), nudge)
    if made <= 2 and nudge:
        return Step(3, NUDGE_TEMPLATE, None)
    return None


@dataclass(frozen=True)
class Contact:
    """One recipient's due contact in a run of `advance_campaigns`."""

    recipient: CampaignRecipient
    step: Step
    suggested_day: date | None


def _request(campaign: Campaign, contact: Contact) -> channels.MessageRequest:
    recipient, day = contact.recipient, contact.suggested_day
    booking_url = (appointments.book_path(campaign.tenant_id, recipient.vehicle_id)
                   if recipient.vehicle_id else "")
    return channels.MessageRequest(
        recipient.customer_id,
        {"booking_url": booking_url, "campaign_name": campaign.name,
         "suggested_day": day.isoformat() if day else ""},
        idempotency_key=f"campaign:{recipient.id}:{contact.step.number}",
        related={"campaign_id": str(campaign.id), "campaign_recipient_id": str(recipient.id)})


async def _send(campaign: Campaign, contacts: list[Contact], now: datetime) -> None:
    """The contacts of one campaign step through the channel pipeline in one batch
    (consent, quiet hours and the weekly cap are decided there), then each recipient's next
    step; call inside the tenant scope."""
    messages = await channels.enqueue_messages(
        campaign.tenant_id, campaign.purpose, contacts[0].step.template,
        [_request(campaign, contact) for contact in contacts], now=now)
    for contact, message in zip(contacts, messages, strict=True):
        await _after_send(campaign, contact, message, now)


async def _after_send(campaign: Campaign, contact: Contact, message: channels.MessageRead,
                      now: datetime) -> None:
    recipient, step = contact.recipient, contact.step
    values: dict[Any, Any] = {CampaignRecipient.last_message_id: message.id}
    if message.status == "suppressed" and message.reason == "frequency cap":
        values[CampaignRecipient.next_step_at] = now + timedelta(days=1)  # try again tomorrow
    elif message.status == "suppressed":
        values |= {CampaignRecipient.status: "suppressed",
                   CampaignRecipient.suppressed_reason: message.reason[:64],
                   CampaignRecipient.next_step_at: None}
    else:
        values |= {CampaignRecipient.step: step.number, CampaignRecipient.status: "contacted",
                   CampaignRecipient.next_step_at: (now + timedelta(days=step.next_after_days)
                                                    if step.next_after_days else None)}
        if recipient.contacted_at is None:
            values[CampaignRecipient.contacted_at] = now
            await events.emit("campaign.targeted", {
                "campaign_id": campaign.id, "customer_id": recipient.customer_id,
                "campaign_recipient_id": recipient.id, "targeted_at": now})
        await events.emit("campaign.recipient_contacted", {
            "campaign_id": campaign.id, "customer_id": recipient.customer_id,
            "campaign_recipient_id": recipient.id, "step": step.number,
            "message_id": message.id})
    await CampaignRecipient.update_in_tenant(values).where(CampaignRecipient.id == recipient.id)


def daily_quota(free_minutes: dict[date, int], minutes_per_visit: int, outstanding: int) -> int:
    """First invitations the workshop can absorb now: the visits its free minutes over the
    booking window hold, less the invitations still out that may yet book."""
    return max(0, sum(free_minutes.values()) // minutes_per_visit - outstanding)


def slackest_day(free_minutes: dict[date, int]) -> date | None:
    """The quietest day ahead, offered first so slack days fill before busy ones."""
    open_days = {day: minutes for day, minutes in free_minutes.items() if minutes > 0}
    return max(open_days, key=lambda day: (open_days[day], -day.toordinal())) \
        if open_days else None


async def _capacity_plan(campaign: Campaign, now: datetime) -> tuple[int, date | None]:
    """Today's quota of first invitations and the day to suggest (inside the scope)."""
    today = (await segments.dealer_today(campaign.tenant_id, now)).day
    free = await appointments.forecast_free_minutes(
        campaign.tenant_id, today + timedelta(days=1), campaign.booking_window_days)
    outstanding = await CampaignRecipient.count_in_tenant().where(
        (CampaignRecipient.campaign_id == campaign.id)
        & (CampaignRecipient.contacted_at >= now - timedelta(days=campaign.booking_window_days))
        & CampaignRecipient.booked_at.is_null()
        & CampaignRecipient.status.is_in(list(ACTIVE)))
    return daily_quota(free, campaign.minutes_per_visit, outstanding), slackest_day(free)


async def advance_campaigns(tenant_id: uuid.UUID, now: datetime | None = None,
                            limit: int = SEND_BATCH) -> int:
    """Make every contact that is due for one dealer; returns how many were attempted."""
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id):
        query = CampaignRecipient.objects_in_tenant().where(
            CampaignRecipient.status.is_in(list(ACTIVE)) & (CampaignRecipient.next_step_at <= now)
        ).order_by(CampaignRecipient.next_step_at).limit(limit)
        query = db.skip_locked(query)
        due = await query
        sent = 0
        campaigns = {row.id: row for row in await Campaign.objects_in_tenant().where(
            Campaign.id.is_in(list({r.campaign_id for r in due}) or [uuid.uuid4()])
        ).output(load_json=True)}
        for campaign in campaigns.values():
            _register_texts(campaign.id, campaign.purpose, campaign.texts)
            if campaign.status == "scheduled":
                await Campaign.update_in_tenant({Campaign.status: "running"}).where(
                    Campaign.id == campaign.id)
        plans = {c.id: await _capacity_plan(c, now) for c in campaigns.values()
                 if c.throttle_to_capacity}
        batches: dict[tuple[uuid.UUID, int], list[Contact]] = {}
        for recipient in due:
            campaign = campaigns[recipient.campaign_id]
            suggested: date | None = None
            if campaign.id in plans and recipient.step == 0:
                quota, suggested = plans[campaign.id]
                if quota <= 0:
                    continue  # stays due; the next run looks at the capacity again
                plans[campaign.id] = (quota - 1, suggested)
            step = next_step(campaign, recipient.step)
            if step is None:
                await CampaignRecipient.update_in_tenant({
                    CampaignRecipient.next_step_at: None}).where(
                    CampaignRecipient.id == recipient.id)
            else:
                batches.setdefault((campaign.id, step.number), []).append(
                    Contact(recipient, step, suggested))
            sent += 1
        for (campaign_id, _), contacts in batches.items():
            await _send(campaigns[campaign_id], contacts, now)
    return sent


def _recipient_id(event: events.Event) -> uuid.UUID | None:
    related = event.payload.get("related") or {}
    value = related.get("campaign_recipient_id")
    return uuid.UUID(value) if value else None


async def on_delivered(event: events.Event) -> None:
    recipient_id = _recipient_id(event)
    if recipient_id is not None:
        await CampaignRecipient.update_in_tenant({CampaignRecipient.delivered_at: event.occurred_at}
                                                 ).where(CampaignRecipient.id == recipient_id,
                                                         CampaignRecipient.delivered_at.is_null())


async def on_replied(event: events.Event) -> None:
    """Any answer stops the next contacts; a booking is credited separately."""
    recipient_id = _recipient_id(event)
    if recipient_id is None:
        return
    await CampaignRecipient.update_in_tenant({
        CampaignRecipient.replied_at: event.occurred_at, CampaignRecipient.next_step_at: None,
        CampaignRecipient.status: "replied",
    }).where(CampaignRecipient.id == recipient_id, CampaignRecipient.status.is_in(list(ACTIVE)))


async def _attributable(customer_id: uuid.UUID, at: datetime) -> list[tuple[CampaignRecipient,
                                                                              Campaign]]:
    """The customer's recipients whose booking window holds `at`: from the first contact, or
    from the start for the hold-out group (who are never contacted)."""
    recipients = await CampaignRecipient.objects_in_tenant().where(
        CampaignRecipient.customer_id == customer_id)
    if not recipients:
        return []
    campaigns = {c.id: c for c in await Campaign.objects_in_tenant().where(
        Campaign.id.is_in([r.campaign_id for r in recipients]))}
    found = []
    for recipient in recipients:
        campaign = campaigns[recipient.campaign_id]
        start = campaign.starts_at if recipient.hold_out else recipient.contacted_at
        if start is not None and start <= at <= start + timedelta(
                days=campaign.booking_window_days):
            found.append((recipient, campaign))
    return found


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else None


def _first_conversion(recipient: CampaignRecipient) -> dict[str, Any]:
    """`targeted_at` (the first contact) on a contacted recipient's first booking or visit
    only: scoring's campaign conversion counts each converted customer once against
    `campaign.targeted`; the hold-out group was never targeted."""
    first = recipient.booked_at is None and recipient.visited_at is None
    if not first or recipient.hold_out or recipient.contacted_at is None:
        return {}
    return {"targeted_at": recipient.contacted_at}


async def on_booked(event: events.Event) -> None:
    at = _instant(event.payload.get("booked_at")) or event.occurred_at
    for recipient, campaign in await _attributable(uuid.UUID(event.payload["customer_id"]), at):
        if recipient.booked_at is not None:
            continue
        await CampaignRecipient.update_in_tenant({
            CampaignRecipient.booked_at: at, CampaignRecipient.next_step_at: None,
            CampaignRecipient.appointment_id: uuid.UUID(event.payload["appointment_id"]),
            CampaignRecipient.status: "held_out" if recipient.hold_out else "booked",
        }).where(CampaignRecipient.id == recipient.id)
        await events.emit("campaign.converted", {
            "campaign_id": campaign.id, "customer_id": recipient.customer_id, "booked": True,
            "visited": False, "revenue": 0.0, "hold_out": recipient.hold_out,
            **_first_conversion(recipient)})


async def on_visit(event: events.Event) -> None:
    at = _instant(event.payload.get("opened_at")) or event.occurred_at
    revenue = Decimal(str(event.payload.get("total_amount") or 0))
    for recipient, campaign in await _attributable(uuid.UUID(event.payload["customer_id"]), at):
        await CampaignRecipient.update_in_tenant({
            CampaignRecipient.visited_at: recipient.visited_at or at,
            CampaignRecipient.revenue: (recipient.revenue or Decimal(0)) + revenue,
            CampaignRecipient.next_step_at: None,
            CampaignRecipient.status: "held_out" if recipient.hold_out else "visited",
        }).where(CampaignRecipient.id == recipient.id)
        await events.emit("campaign.converted", {
            "campaign_id": campaign.id, "customer_id": recipient.customer_id,
            "booked": recipient.booked_at is not None, "visited": True,
            "revenue": float(revenue), "hold_out": recipient.hold_out,
            **_first_conversion(recipient)})


async def record_response(tenant_id: uuid.UUID, campaign_id: uuid.UUID,
                          recipient_id: uuid.UUID, response: str,
                          reason: str = "", now: datetime | None = None
                          ) -> CampaignRecipient | None:
    """A CS agent's call: accepted or declined, with the customer's reason."""
    now = now or datetime.now(UTC)
    async with tenant_scope(tenant_id):
        recipient = await CampaignRecipient.get_in_tenant(recipient_id)
        if recipient is None or recipient.campaign_id != campaign_id:
            return None
        check_answer("response", response, RESPONSES, reason)
        values: dict[Any, Any] = {
            CampaignRecipient.response: response,
            CampaignRecipient.response_reason: reason.strip()[:200],
            CampaignRecipient.replied_at: recipient.replied_at or now,
            CampaignRecipient.next_step_at: None}
        if recipient.status in ACTIVE:
            values[CampaignRecipient.status] = "declined" if response == "declined" else "replied"
        await CampaignRecipient.update_in_tenant(values).where(
            CampaignRecipient.id == recipient_id)
        return await CampaignRecipient.get_in_tenant(recipient_id)


async def results(tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> CampaignResults | None:
    """Treatment against hold-out, and per template variant (one GROUP BY)."""
    async with tenant_scope(tenant_id, write=False) as tid:
        if await Campaign.get_in_tenant(campaign_id) is None:
            return None
        rows = await db.fetch(
            "select hold_out, variant, count(*) as recipients, count(contacted_at) as contacted,"
            " count(delivered_at) as delivered, count(replied_at) as replied, "
            "count(booked_at) as booked, count(visited_at) as visited, "
            "coalesce(sum(revenue), 0) as revenue from campaign_recipient "
            "where tenant_id = {} and campaign_id = {} group by hold_out, variant", tid,
            campaign_id)
    groups = {True: GroupResult(), False: GroupResult()}
    variants: dict[str, GroupResult] = {}
    for row in rows:
        counts = {k: row[k] for k in ("recipients", "contacted", "delivered", "replied",
                                       "booked", "visited")}
        revenue = Decimal(str(row["revenue"]))
        _add(groups[bool(row["hold_out"])], counts, revenue)
        if not row["hold_out"]:
            _add(variants.setdefault(row["variant"], GroupResult()), counts, revenue)
    treatment, hold_out = groups[False], groups[True]
    lift = (treatment.booking_rate - hold_out.booking_rate) if hold_out.recipients else None
    return CampaignResults(treatment, hold_out, variants, lift)


def _add(group: GroupResult, counts: dict[str, int], revenue: Decimal) -> None:
    for key, value in counts.items():
        setattr(group, key, getattr(group, key) + int(value))
    group.revenue += revenue


async def get_campaign(tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign | None:
    async with tenant_scope(tenant_id, write=False):
        return await Campaign.get_in_tenant(campaign_id)


async def list_campaigns(tenant_id: uuid.UUID, *, page: int = 1, per_page: int = 25,
                         sort: str = "created_at", descending: bool = True
                         ) -> tuple[list[Campaign], int]:
    column = {"name": Campaign.name, "starts_at": Campaign.starts_at}.get(sort,
                                                                         Campaign.created_at)
    async with tenant_scope(tenant_id, write=False):
        rows = await db.paged(Campaign.objects_in_tenant().order_by(
            column, ascending=not descending), page, per_page)
        return list(rows), await Campaign.count_in_tenant()


async def list_recipients(tenant_id: uuid.UUID, campaign_id: uuid.UUID, *, page: int = 1,
                          per_page: int = 25) -> tuple[list[CampaignRecipient], int]:
    async with tenant_scope(tenant_id, write=False):
        where = CampaignRecipient.campaign_id == campaign_id
        rows = await db.paged(CampaignRecipient.objects_in_tenant().where(where).order_by(
            CampaignRecipient.id), page, per_page)
        return list(rows), await CampaignRecipient.count_in_tenant().where(where)
