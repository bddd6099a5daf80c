"""List reads in the access history: every page and API read that shows many customers at
once (searches, the day board, complaints, messages, due lists, the call list) records one
read naming the customers it showed, so the auditor's history of a customer includes every
list that showed it, and a customer not shown is not linked. OEM users are refused those
lists and leave no list read. Date filters and times are the dealer's local ones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from dealerhub.channels import service as channels
from dealerhub.platform.appointments import service as appointments
from dealerhub.platform.appointments.schemas import AppointmentCreate
from dealerhub.platform.appointments.tables import Task
from dealerhub.platform.campaigns.due_lists.service import generate_due_lists
from dealerhub.platform.tables import AuditLog
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.complaints.service import Actor, record_from_call
from dealerhub.survey.touchpoints.tables import Touchpoint
from dealerhub.tenants.customers.service import get_customer
from tests.conftest import DealerFixture, bearer_for, login_page_session
from tests.platform.appointments.conftest import equip, future_day
from tests.security.test_audit_trail import TRAIL, add_auditor
from tests.tenants.factories import new_customer, new_vehicle

pytestmark = pytest.mark.anyio
NOTICE = "test.audit_notice"
channels.register_template(NOTICE, "service", {
    "zh-CN": channels.TemplateText("到店提醒", "{{ customer_name }}您好，欢迎到店。"),
    "en": channels.TemplateText("Visit", "Hello {{ customer_name }}, welcome."),
})


@dataclass
class Shown:
    """A dealer where one customer appears in every list and another in none."""

    customer_id: uuid.UUID
    phone: str
    name: str
    bystander_id: uuid.UUID
    day: date
    appointment_id: uuid.UUID
    complaint_id: uuid.UUID
    message_id: uuid.UUID


async def _fill(dealer: DealerFixture) -> Shown:
    shop = await equip(dealer)
    customer = await get_customer(dealer.id, shop.customer_id)
    bystander = await new_customer(dealer.id, name="路人乙")
    day = future_day()
    booked = await appointments.book(dealer.id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(day, 10), job_codes=["OIL"]),
        channel="portal", actor="audit-test")
    complaint = await record_from_call(dealer.id, shop.customer_id, "刹车异响", "normal",
                                       Actor(None, "cs_agent"))
    message = await channels.enqueue_message(dealer.id, shop.customer_id, "service", NOTICE, {})
    await new_vehicle(dealer.id, shop.customer_id,
                      purchase_date=date.today() - timedelta(days=90))
    await generate_due_lists(dealer.id)
    async with tenant_scope(dealer.id):
        await Task.insert_in_tenant(Task(appointment_id=booked.appointment.id,
                                         customer_id=shop.customer_id, kind="reschedule",
                                         note="改到周五"))
        await Touchpoint.insert_in_tenant(Touchpoint(
            customer_id=shop.customer_id, kind="contact_48h", mode="call", status="open",
            due_at=datetime.now(UTC) - timedelta(hours=1)))
    return Shown(shop.customer_id, customer.phone_e164, customer.name, bystander.id, day,
                 booked.appointment.id, complaint.id, message.id)


def _api_lists(shown: Shown) -> list[tuple[str, dict[str, str]]]:
    return [("/api/v1/customers", {"q": shown.phone}),
            ("/api/v1/appointments", {"day": shown.day.isoformat()}),
            ("/api/v1/appointments/tasks", {}),
            ("/api/v1/messages", {}),
            ("/api/v1/due-lists/today", {})]


def _page_lists(shown: Shown) -> list[tuple[str, dict[str, str]]]:
    return [("/customers", {"q": shown.phone}),
            ("/appointments", {"day": shown.day.isoformat()}),
            ("/appointments/board", {"day": shown.day.isoformat()}),
            ("/appointments/new", {"q": shown.name}),
            ("/appointments/tasks", {}),
            ("/complaints", {}),
            ("/messages", {}),
            ("/due-lists", {}),
            ("/survey/calls", {})]


async def test_list_reads_name_the_customers_they_showed(client, dealer_a, dealer_b) -> None:
    shown = await _fill(dealer_a)
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    for path, params in _api_lists(shown):
        response = await client.get(path, headers=advisor, params=params)
        assert response.status_code == 200, (path, response.text)
        assert str(shown.customer_id) in response.text, path
    await login_page_session(client, dealer_a.emails["cs_agent"])
    for path, params in _page_lists(shown):
        assert (await client.get(path, params=params)).status_code == 200, path
    singles = [f"/appointments/{shown.appointment_id}", f"/complaints/{shown.complaint_id}",
               f"/messages/{shown.message_id}"]
    for path in singles:
        assert (await client.get(path)).status_code == 200, path

    auditor = await bearer_for(client, await add_auditor(dealer_a))
    listed = (await client.get(TRAIL, headers=auditor, params={
        "customer_id": str(shown.customer_id), "action": "list", "per_page": 100})).json()
    lists = _api_lists(shown) + _page_lists(shown)
    assert sorted(e["target"] for e in listed["items"]) == sorted(path for path, _ in lists)
    assert {e["customer_id"] for e in listed["items"]} == {str(shown.customer_id)}
    assert {e["action"] for e in listed["items"]} == {"list"}
    agent, advisor_email = dealer_a.emails["cs_agent"], dealer_a.emails["service_advisor"]
    by_target = {e["target"]: e for e in listed["items"]}
    assert by_target["/customers"]["actor"] == agent
    assert by_target["/api/v1/customers"]["actor"] == advisor_email
    # the search term is kept as the logs keep it: a phone number's last four digits only
    assert by_target["/api/v1/customers"]["query"] == f"q=+*******{shown.phone[-4:]}"
    assert shown.phone[3:] not in str(listed)
    assert by_target["/appointments/new"]["query"] == f"q={shown.name}"
    assert by_target["/api/v1/appointments"]["customers_shown"] == 1
    assert by_target["/complaints"]["customers_shown"] == 1

    # detail pages showing one customer are reads of that customer, listed with the lists
    everything = (await client.get(TRAIL, headers=auditor, params={
        "customer_id": str(shown.customer_id), "per_page": 100})).json()
    reads = [e["target"] for e in everything["items"] if e["action"] == "read"]
    assert sorted(reads) == sorted(singles)
    assert len([e for e in everything["items"] if e["action"] == "list"]) == len(lists)

    # the customer no list showed: not linked to any of them
    bystander = (await client.get(TRAIL, headers=auditor, params={
        "customer_id": str(shown.bystander_id)})).json()
    assert bystander["total"] == 0
    # the dealer-wide trail lists each list read once, with how many customers it showed
    all_lists = (await client.get(TRAIL, headers=auditor, params={
        "action": "list", "per_page": 100})).json()
    assert all_lists["total"] == len(lists)
    assert all(e["customer_id"] is None and e["customers_shown"] >= 1
               for e in all_lists["items"])
    other = await bearer_for(client, await add_auditor(dealer_b))
    theirs = (await client.get(TRAIL, headers=other, params={"action": "list"})).json()
    assert theirs["total"] == 0

    await login_page_session(client, dealer_a.emails["auditor"])
    client.cookies.set("lang", "en", domain="testserver.local")
    page = await client.get(f"/customers/{shown.customer_id}/access-history",
                            params={"action": "list"})
    assert page.status_code == 200 and "/api/v1/due-lists/today" in page.text
    assert "customers shown" in page.text and "Asia/Shanghai" in page.text
    client.cookies.set("lang", "zh-CN", domain="testserver.local")
    zh = await client.get("/access-history", params={"action": "list"})
    assert "列表" in zh.text and "本店时区" in zh.text and "/survey/calls" in zh.text


async def test_an_empty_search_is_recorded_and_links_nobody(client, dealer_a) -> None:
    await new_customer(dealer_a.id, name="韩梅梅")
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    found = await client.get("/api/v1/customers", headers=advisor,
                             params={"q": "nobody@example.com"})
    assert found.status_code == 200 and found.json()["total"] == 0
    auditor = await bearer_for(client, await add_auditor(dealer_a))
    listed = (await client.get(TRAIL, headers=auditor, params={"action": "list"})).json()
    assert [(e["query"], e["customers_shown"]) for e in listed["items"]] == [
        ("q=***@example.com", 0)]


async def test_oem_users_get_no_customer_lists(client, dealer_a, oem) -> None:
    shown = await _fill(dealer_a)
    emails = [oem.emails["oem_analyst"], oem.emails["oem_admin"]]
    for email in emails:
        headers = await bearer_for(client, email)
        for path, params in _api_lists(shown):
            response = await client.get(path, headers=headers, params=params)
            assert response.status_code == 403, (email, path)
            assert shown.phone not in response.text and shown.name not in response.text
        await login_page_session(client, email)
        for path, params in _page_lists(shown):
            response = await client.get(path, params=params, follow_redirects=False)
            assert response.status_code == 403, (email, path)
            assert shown.name not in response.text
    rows = await AuditLog.select(AuditLog.id).where(
        AuditLog.actor.is_in(emails), AuditLog.shown.is_not_null())
    assert rows == []


async def test_date_filters_are_the_dealers_local_days(client, dealer_a) -> None:
    customer = await new_customer(dealer_a.id, name="韩梅梅")
    # 20:00 UTC on 1 January is 04:00 on 2 January in Shanghai, the dealer's time zone
    at = datetime(2026, 1, 1, 20, tzinfo=UTC)
    await AuditLog.insert(AuditLog(at=at, actor="advisor@local.example", tenant_id=dealer_a.id,
                                   action="GET", target=f"/customers/{customer.id}",
                                   status_code=200, customer_id=customer.id))
    auditor = await bearer_for(client, await add_auditor(dealer_a))
    local_day = {"customer_id": str(customer.id), "since": "2026-01-02T00:00:00",
                 "until": "2026-01-03T00:00:00"}
    assert (await client.get(TRAIL, headers=auditor, params=local_day)).json()["total"] == 1
    utc_day = {**local_day, "since": "2026-01-02T00:00:00Z", "until": "2026-01-03T00:00:00Z"}
    assert (await client.get(TRAIL, headers=auditor, params=utc_day)).json()["total"] == 0

    await login_page_session(client, dealer_a.emails["auditor"])
    client.cookies.set("lang", "en", domain="testserver.local")
    page = await client.get(f"/customers/{customer.id}/access-history",
                            params={"since": "2026-01-02", "until": "2026-01-02"})
    assert "2026-01-02 04:00:00" in page.text and "Asia/Shanghai" in page.text
    before = await client.get(f"/customers/{customer.id}/access-history",
                              params={"since": "2026-01-01", "until": "2026-01-01"})
    assert "Nothing recorded" in before.text
