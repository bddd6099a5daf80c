"""For every path parameter in the API, how to make an object of that kind in a dealer.

`tests/test_isolation.py` walks every route in the OpenAPI schema as a user of dealer A
with ids made here for dealer B, and expects 404 or 403. A route whose path parameter has
no factory here fails that test: add one when you add a route.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from tests.conftest import DealerFixture

Factory = Callable[[DealerFixture], Awaitable[uuid.UUID | str]]
PATH_PARAM_FACTORIES: dict[str, Factory] = {}


def factory(*param_names: str) -> Callable[[Factory], Factory]:
    def register(fn: Factory) -> Factory:
        for name in param_names:
            PATH_PARAM_FACTORIES[name] = fn
        return fn

    return register


@factory("api_key_id")
async def make_api_key(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.platform.auth import create_api_key

    issued = await create_api_key(dealer.id, "isolation", ["read"], None)
    return issued.api_key.id


@factory("customer_id")
async def make_customer(dealer: DealerFixture) -> uuid.UUID:
    from tests.tenants.factories import new_customer

    return (await new_customer(dealer.id)).id


@factory("staff_id")
async def make_staff(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.tenants.staff.schemas import StaffCreate
    from dealerhub.tenants.staff.service import create_staff

    return (await create_staff(dealer.id, StaffCreate(name="隔离顾问", kind="service_advisor"))).id


@factory("vehicle_id")
async def make_vehicle(dealer: DealerFixture) -> uuid.UUID:
    from tests.tenants.factories import new_customer, new_vehicle

    return (await new_vehicle(dealer.id, (await new_customer(dealer.id)).id)).id


@factory("repair_order_id")
async def make_repair_order(dealer: DealerFixture) -> uuid.UUID:
    from tests.tenants.factories import new_customer, new_vehicle, utc, visit

    vehicle = await new_vehicle(dealer.id, (await new_customer(dealer.id)).id)
    return (await visit(dealer.id, vehicle, utc(2025, 6, 1))).id


@factory("import_id")
async def make_import(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.tenants.imports.service import import_rows

    return (await import_rows(dealer.id, "customers", [{"external_id": "I1", "name": "x"}],
                              None)).id


@factory("appointment_id")
async def make_appointment(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.platform.appointments import service
    from dealerhub.platform.appointments.schemas import AppointmentCreate
    from tests.platform.appointments.conftest import equip, future_day

    shop = await equip(dealer)
    booked = await service.book(dealer.id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(), 10), job_codes=["OIL"]),
        channel="portal", actor="isolation")
    return booked.appointment.id


@factory("entry_id")
async def make_due_list_entry(dealer: DealerFixture) -> uuid.UUID:
    from datetime import date, timedelta

    from dealerhub.platform.campaigns.due_lists.service import generate_due_lists, todays_list
    from tests.platform.campaigns.conftest import vehicle_with

    await vehicle_with(dealer.id, purchase_date=date.today() - timedelta(days=90))
    await generate_due_lists(dealer.id)
    return (await todays_list(dealer.id)).entries[0]["id"]


@factory("dealer_id")
async def make_dealer_ref(dealer: DealerFixture) -> uuid.UUID:
    """Headquarters scoring pages take a dealer id; dealer staff are refused them (403)."""
    return dealer.id


@factory("metric_key")
async def make_metric_key(dealer: DealerFixture) -> str:
    return "csat"


@factory("complaint_id")
async def make_complaint(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.survey.complaints.service import Actor, record_from_call
    from tests.tenants.factories import new_customer

    customer = await new_customer(dealer.id)
    row = await record_from_call(dealer.id, customer.id, "isolation", "normal",
                                 Actor(None, "cs_agent"))
    return row.id


@factory("segment_id")
async def make_segment(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.platform.campaigns.segments.service import save_segment

    return (await save_segment(dealer.id, "isolation", {"rules": []})).id


async def _campaign_with_recipient(dealer: DealerFixture) -> tuple[uuid.UUID, uuid.UUID]:
    from datetime import UTC, datetime, timedelta

    from dealerhub.platform.campaigns.campaigns import service
    from dealerhub.platform.campaigns.campaigns.schemas import CampaignCreate, MessageText
    from dealerhub.tenants.customers.service import record_consent
    from tests.platform.campaigns.conftest import vehicle_with

    customer, _ = await vehicle_with(dealer.id)
    await record_consent(dealer.id, customer.id, "marketing", "sms", True, "isolation")
    segment_id = await make_segment(dealer)
    campaign = await service.create_campaign(dealer.id, CampaignCreate(
        name="isolation", texts={"zh-CN": MessageText("您好")}, segment_id=segment_id,
        starts_at=datetime.now(UTC) + timedelta(days=1)))
    recipients, _ = await service.list_recipients(dealer.id, campaign.id)
    return campaign.id, recipients[0].id


@factory("campaign_id")
async def make_campaign(dealer: DealerFixture) -> uuid.UUID:
    return (await _campaign_with_recipient(dealer))[0]


@factory("recipient_id")
async def make_campaign_recipient(dealer: DealerFixture) -> uuid.UUID:
    return (await _campaign_with_recipient(dealer))[1]


@factory("oem_campaign_id")
async def make_oem_campaign(dealer: DealerFixture) -> uuid.UUID:
    from datetime import UTC, datetime, timedelta

    from dealerhub.platform.campaigns.campaigns.oem import create_oem_campaign
    from dealerhub.platform.campaigns.campaigns.schemas import MessageText, OemCampaignCreate
    from dealerhub.platform.campaigns.segments.schemas import SegmentDefinition

    return (await create_oem_campaign(OemCampaignCreate(
        name="isolation", definition=SegmentDefinition(), texts={"zh-CN": MessageText("您好")},
        starts_at=datetime.now(UTC) + timedelta(days=1), dealer_ids=[dealer.id]))).id


@factory("message_id")
async def make_message(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.channels import service as channels
    from dealerhub.channels.webhooks.service import DISABLED_TEMPLATE

    (message,) = await channels.enqueue_staff_message(
        dealer.id, DISABLED_TEMPLATE, {"url": "https://isolation.example", "reason": "isolation"},
        user_id=dealer.users["dealer_admin"], media=("email",), urgent=True)
    return message.id


@factory("endpoint_id")
async def make_webhook_endpoint(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.channels.webhooks import service

    created = await service.create_endpoint(dealer.id, "https://isolation.example/hook", ["*"])
    return created.row.id


@factory("delivery_id")
async def make_webhook_delivery(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.channels.webhooks import service
    from dealerhub.platform import events
    from dealerhub.platform.tenancy import tenant_scope

    endpoint_id = await make_webhook_endpoint(dealer)
    async with tenant_scope(dealer.id):
        event_id = await events.emit("isolation.checked", {"dealer_id": dealer.id})
    event = await events.load_event(event_id)
    async with tenant_scope(dealer.id):
        await service.fan_out([event])
    deliveries = await service.list_deliveries(dealer.id, endpoint_id)
    return deliveries[0].id


@factory("question_id")
async def make_local_question(dealer: DealerFixture) -> uuid.UUID:
    from dealerhub.survey.questions.schemas import QuestionWrite
    from dealerhub.survey.questions.service import save_local

    return (await save_local(dealer.id, QuestionWrite(
        key="local.isolation", kind="rating", step="overall", text_zh="测试", text_en="Test"))).id


@factory("flag_review_id")
async def make_flag_review(dealer: DealerFixture) -> uuid.UUID:
    from datetime import UTC, datetime

    from dealerhub.survey.integrity.tables import FlagReview

    row = FlagReview(tenant_id=dealer.id, region_id=dealer.region_id,
                     invitation_id=uuid.uuid4(), answered_at=datetime.now(UTC),
                     flags="solicited")
    await FlagReview.insert(row)
    return row.id
