"""What the mixed load needs from the database, made through the services: per dealer an
API key, the Twilio account, bookable technicians and vehicles, customers to look at and
search for, unanswered survey invitations (their real signed links) and SMS messages that
the worker will send, so their status callbacks have something to update.

`python -m bench._load_setup PLAN_JSON` runs `prepare` in its own interpreter on the
benchmark database (Piccolo binds its engine at import); the load test calls it in-process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dealerhub.channels import service as channels
from dealerhub.channels.credentials import service as credentials
from dealerhub.platform.appointments.tables import Technician
from dealerhub.platform.auth import create_api_key
from dealerhub.platform.db import chunks
from dealerhub.platform.tables import Dealer
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.messages import INVITATION_TEMPLATE
from dealerhub.survey.questions import service as questions
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.vehicles.tables import Vehicle

SURVEY_KEYS = ["overall.csat", "reception.prompt", "overall.comment"]
BOOKABLE_TECHNICIANS = 6  # demo dealers have 6 general bays: one booking per bay and start
SAMPLE = 200  # customers and vehicles per dealer the portal reads and bookings pick from
INSERT_BATCH = 500  # below the bind-parameter limit


@dataclass
class DealerPlan:
    """One dealer's share of the workload: who signs in and what the requests point at."""

    tenant_id: str
    time_zone: str
    login_email: str
    api_key: str
    technician_ids: list[str]
    vehicle_ids: list[str]
    customer_ids: list[str]
    search_terms: list[str]
    survey_tokens: list[str]
    callbacks: list[list[str]] = field(default_factory=list)  # [message id, provider sid]


async def _dealer_plan(dealer: Dealer, login_email: str, twilio: dict[str, str],
                       invitations: int, messages: int) -> DealerPlan:
    await credentials.save_account(dealer.id, "twilio_sms", enabled=True, sender="",
                                   settings=twilio)
    key = await create_api_key(dealer.id, "load benchmark", ["appointments"], None)
    now = datetime.now(UTC)
    async with tenant_scope(dealer.id):
        technicians = await Technician.select_in_tenant(Technician.id).where(
            Technician.active.eq(True)).order_by(Technician.id)
        vehicles = await Vehicle.select_in_tenant(Vehicle.id, Vehicle.plate).order_by(
            Vehicle.id).limit(SAMPLE)
        customers = await Customer.select_in_tenant(
            Customer.id, Customer.name, Customer.phone_e164).order_by(Customer.id)
        bank = await questions.active_by_key(SURVEY_KEYS)
        refs = triggers.question_refs([bank[k] for k in SURVEY_KEYS])
        rows = [Invitation(customer_id=customers[i % len(customers)]["id"], questions=refs,
                           status="sent", sent_at=now, due_at=now, created_at=now)
                for i in range(invitations)]
        for batch in chunks(rows, INSERT_BATCH):
            await Invitation.insert_in_tenant(*batch)
        for row in rows[:messages]:
            await channels.enqueue_message(
                dealer.id, row.customer_id, "service", INVITATION_TEMPLATE,
                {"url": triggers.survey_url(dealer.id, row.id),
                 **triggers.question_context(None)},
                channel="sms", related={"survey_invitation_id": str(row.id)},
                idempotency_key=f"survey-invitation:{row.id}")
    sample = customers[:SAMPLE]
    terms = [c["name"][:2] for c in sample[:20]] + [c["phone_e164"][-4:] for c in sample[:20]]
    terms += [v["plate"] for v in vehicles[:20] if v["plate"]]
    return DealerPlan(
        tenant_id=str(dealer.id), time_zone=dealer.time_zone, login_email=login_email,
        api_key=key.plaintext,
        technician_ids=[str(t["id"]) for t in technicians[:BOOKABLE_TECHNICIANS]],
        vehicle_ids=[str(v["id"]) for v in vehicles],
        customer_ids=[str(c["id"]) for c in sample], search_terms=terms,
        survey_tokens=[triggers.survey_token(dealer.id, row.id) for row in rows])


async def prepare(logins: dict[str, str], twilio: dict[str, str], invitations: int,
                  messages: int) -> list[DealerPlan]:
    """`logins` maps dealer id to the staff email that signs in to its portal;
    `invitations` and `messages` are per dealer."""
    plans = []
    for dealer_id, email in logins.items():
        dealer = await Dealer.objects().where(Dealer.id == uuid.UUID(dealer_id)).first()
        plans.append(await _dealer_plan(dealer, email, twilio, invitations, messages))
    return plans


async def sent_messages(plans: list[DealerPlan]) -> int:
    """Fill each plan's callbacks with its messages the provider accepted; returns how many."""
    total = 0
    for plan in plans:
        sent = await channels.list_messages(uuid.UUID(plan.tenant_id), status="sent",
                                            limit=500)
        plan.callbacks = [[str(m.id), m.provider_id] for m in sent if m.provider_id]
        total += len(plan.callbacks)
    return total


async def _main(command: str, argument: dict[str, Any]) -> Any:
    from dealerhub.platform import db
    from dealerhub.platform.config import get_settings

    await db.start(get_settings())
    try:
        if command == "prepare":
            if argument["demo_logins"]:
                argument["logins"] = {
                    str(d.id): f"advisor@{d.code.lower()}.demo"
                    for d in await Dealer.objects().order_by(Dealer.code)}
            plans = await prepare(argument["logins"], argument["twilio"],
                                  argument["invitations"], argument["messages"])
            return [asdict(p) for p in plans]
        plans = [DealerPlan(**p) for p in argument["plans"]]
        await sent_messages(plans)
        return [asdict(p) for p in plans]
    finally:
        await db.stop(get_settings())


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main(sys.argv[1], json.loads(sys.stdin.read())))))
