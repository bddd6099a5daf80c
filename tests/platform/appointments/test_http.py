"""The JSON API, the portal pages and the customer self-service link over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from dealerhub.platform import links
from dealerhub.platform.appointments import service
from dealerhub.platform.appointments.schemas import AppointmentCreate
from dealerhub.platform.auth import create_api_key
from tests.conftest import bearer_for, login_page_session
from tests.platform.appointments.conftest import build_shop, future_day

pytestmark = pytest.mark.anyio


def body(shop, starts_at, **fields) -> dict:
    return {"vehicle_id": str(shop.vehicle_id), "starts_at": starts_at.isoformat(),
            "job_codes": fields.pop("job_codes", ["OIL"]), **fields}


async def api_key_headers(shop, scopes=("appointments",)) -> dict[str, str]:
    issued = await create_api_key(shop.tenant_id, "dms", list(scopes), None)
    return {"Authorization": f"Bearer {issued.plaintext}"}


async def test_api_key_books_with_idempotency_key(client, shop) -> None:
    headers = {**await api_key_headers(shop), "Idempotency-Key": "dms-42"}
    payload = body(shop, shop.local(future_day(), 9))
    first = await client.post("/api/v1/appointments", json=payload, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["channel"] == "api" and first.json()["recalls"] == ["R-2026-001"]
    retry = await client.post("/api/v1/appointments", json=payload, headers=headers)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


async def test_api_key_without_scope_is_refused(client, shop) -> None:
    headers = await api_key_headers(shop, scopes=("read",))
    response = await client.post("/api/v1/appointments",
                                 json=body(shop, shop.local(future_day(), 9)), headers=headers)
    assert response.status_code == 403


async def test_availability_over_api(client, shop) -> None:
    headers = await bearer_for(client, shop.dealer.emails["cs_agent"])
    response = await client.get("/api/v1/appointments/availability", headers=headers, params={
        "vehicle_id": str(shop.vehicle_id), "preferred_at": shop.local(future_day(), 9).isoformat(),
        "problem": "刹车异响"})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["job_codes"] == ["BRAKE"] and found["estimate"]["total_fen"] == 100000
    assert found["proposed"]["starts_at"] == found["slots"][0]["starts_at"]
    assert found["recalls"] == ["R-2026-001"]
    jobs = await client.get("/api/v1/appointments/availability", headers=headers, params=[
        ("vehicle_id", str(shop.vehicle_id)), ("job_codes", "OIL"), ("job_codes", "ELEC"),
        ("preferred_at", shop.local(future_day(), 9).isoformat())])
    assert jobs.json()["job_codes"] == ["OIL", "ELEC"]
    bad = await client.get("/api/v1/appointments/availability", headers=headers, params={
        "vehicle_id": str(shop.vehicle_id), "preferred_at": "2030-01-01T09:00:00+08:00",
        "job_codes": "OIL", "pickup_latitude": "123"})
    assert bad.status_code == 400 and "pickup_latitude" in bad.text


@pytest.mark.parametrize(("change", "field"), [
    ({"starts_at": "2020-01-01T09:00:00+08:00"}, "starts_at"),
    ({"job_codes": ["NOPE"]}, "job_codes"),
    ({"colour": "red"}, "colour"),
])
async def test_bad_input_is_400_naming_the_field(client, shop, change, field) -> None:
    headers = await bearer_for(client, shop.dealer.emails["service_advisor"])
    response = await client.post("/api/v1/appointments", headers=headers,
                                 json={**body(shop, shop.local(future_day(), 9)), **change})
    assert response.status_code == 400, response.text
    assert field in response.text
    listed = await client.get(f"/api/v1/appointments?day={future_day().isoformat()}",
                              headers=headers)
    assert listed.json() == []


async def test_another_dealers_vehicle_is_404(client, shop) -> None:
    other = await build_shop()
    headers = await bearer_for(client, shop.dealer.emails["service_advisor"])
    response = await client.post("/api/v1/appointments", headers=headers, json={
        **body(shop, shop.local(future_day(), 9)), "vehicle_id": str(other.vehicle_id)})
    assert response.status_code == 404 and "vehicle_id" in response.text


async def test_reschedule_of_delivered_is_409(client, shop) -> None:
    headers = await bearer_for(client, shop.dealer.emails["service_advisor"])
    created = (await client.post("/api/v1/appointments", headers=headers,
                                 json=body(shop, shop.local(future_day(), 9)))).json()
    for status in ("arrived", "in_service", "ready", "delivered"):
        step = await client.post(f"/api/v1/appointments/{created['id']}/status",
                                 headers=headers, json={"status": status})
        assert step.status_code == 200, step.text
    response = await client.post(f"/api/v1/appointments/{created['id']}/reschedule",
                                 headers=headers,
                                 json={"starts_at": shop.local(future_day(), 14).isoformat()})
    assert response.status_code == 409 and "status" in response.text


async def test_calendar_export_is_valid_icalendar(client, shop) -> None:
    headers = await bearer_for(client, shop.dealer.emails["service_advisor"])
    start = shop.local(future_day(), 9)
    for offset in (0, 2):
        created = await client.post("/api/v1/appointments", headers=headers,
                                    json=body(shop, start + timedelta(hours=offset)))
        assert created.status_code == 201
    response = await client.get(f"/api/v1/appointments/calendar.ics?day={future_day(-1)}",
                                headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    assert sorted(e.decoded("dtstart") for e in events)[0] == start
    assert all(str(e.get("summary")).startswith("OIL") for e in events)


async def test_day_board_flags_unconfirmed_and_turns_arrival_into_repair_order(client,
                                                                               shop) -> None:
    day = future_day()
    booked = await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(day, 9), job_codes=["OIL"]),
        channel="portal", actor="t")
    await login_page_session(client, shop.dealer.emails["service_advisor"])
    client.cookies.set("lang", "en")
    board = await client.get(f"/appointments?day={day}")
    assert board.status_code == 200
    assert "Unconfirmed" in board.text and "09:00" in board.text
    client.cookies.set("lang", "zh-CN")
    zh = await client.get(f"/appointments?day={day}")
    assert "未确认" in zh.text
    token = client.cookies.get("dh_csrf")
    opened = await client.post(f"/appointments/{booked.appointment.id}/repair-order",
                               data={"_csrf_token": token, "day": str(day),
                                     "mileage_km": "8000"}, follow_redirects=False)
    assert opened.status_code == 303
    row = await service.get_appointment(shop.tenant_id, booked.appointment.id)
    assert row.status == "arrived" and row.repair_order_id is not None


async def test_booking_form_finds_slots_and_books(client, shop) -> None:
    await login_page_session(client, shop.dealer.emails["cs_agent"])
    client.cookies.set("lang", "en")
    day = future_day()
    form = await client.get("/appointments/new", params={
        "search": "1", "vehicle_id": str(shop.vehicle_id), "preferred_at": f"{day}T10:00",
        "job_codes": "BRAKE"})
    assert form.status_code == 200, form.text
    assert "Bookable slots" in form.text and "R-2026-001" in form.text
    slot = re.search(r'name="starts_at" value="([^"]+)"', form.text).group(1)
    booked = await client.post("/appointments/new", data={
        "_csrf_token": client.cookies.get("dh_csrf"), "vehicle_id": str(shop.vehicle_id),
        "starts_at": slot, "job_codes": "BRAKE", "problem": "刹车异响", "noise": "吱吱"},
        follow_redirects=False)
    assert booked.status_code == 303, booked.text
    detail = await client.get(booked.headers["location"])
    assert "吱吱" in detail.text and "/c/appointments/" in detail.text


async def test_capacity_page_is_for_dealer_admins(client, shop) -> None:
    await login_page_session(client, shop.dealer.emails["service_advisor"])
    assert (await client.get("/appointments/capacity")).status_code == 403
    client.cookies.clear()
    await login_page_session(client, shop.dealer.emails["dealer_admin"])
    page = await client.get("/appointments/capacity", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Tech 0" in page.text
    added = await client.post("/appointments/capacity/jobs", data={
        "_csrf_token": client.cookies.get("dh_csrf"), "code": "wash", "name_zh": "洗车",
        "name_en": "Car wash", "duration_minutes": "20", "skill": "general",
        "labour_price": "30"}, follow_redirects=False)
    assert added.status_code == 303
    jobs = (await service.capacity(shop.tenant_id)).jobs
    assert jobs["WASH"].quick and jobs["WASH"].labour_fen == 3000


async def test_customer_link_confirm_reschedule_cancel(client, shop) -> None:
    booked = await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(), 9), job_codes=["OIL"]),
        channel="portal", actor="t")
    path = service.manage_path(shop.tenant_id, booked.appointment.id)
    page = await client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Not confirmed yet" in page.text
    confirmed = await client.get(f"{path}/confirm", headers={"Accept-Language": "en"})
    assert "confirmed" in confirmed.text
    day = future_day(8)
    options = await client.get(f"{path}/reschedule?day={day}")
    slot = re.findall(r'name="starts_at" value="([^"]+)"', options.text)[4]
    moved = await client.post(f"{path}/reschedule", data={
        "_csrf_token": client.cookies.get("dh_csrf"), "starts_at": slot},
        headers={"Accept-Language": "en"})
    assert moved.status_code == 200 and "has been moved" in moved.text
    row = await service.get_appointment(shop.tenant_id, booked.appointment.id)
    assert row.starts_at.isoformat() == slot and row.confirmed_at is None
    cancelled = await client.post(f"{path}/cancel", data={
        "_csrf_token": client.cookies.get("dh_csrf")}, headers={"Accept-Language": "en"})
    assert "cancelled" in cancelled.text
    again = await client.post(f"{path}/cancel", data={
        "_csrf_token": client.cookies.get("dh_csrf")})
    assert again.status_code == 409


async def test_customer_books_from_a_signed_link(client, shop) -> None:
    path = service.book_path(shop.tenant_id, shop.vehicle_id)
    day = future_day(3)
    page = await client.get(path, params={"search": "1", "day": str(day),
                                          "job_codes": "OIL"})
    assert page.status_code == 200
    slot = re.findall(r'name="starts_at" value="([^"]+)"', page.text)[0]
    booked = await client.post(path, data={"_csrf_token": client.cookies.get("dh_csrf"),
                                           "starts_at": slot, "job_codes": "OIL"},
                               follow_redirects=False)
    assert booked.status_code == 303 and booked.headers["location"].startswith("/c/appointments/")
    rows = await service.list_appointments(shop.tenant_id, shop.local(day, 0),
                                           shop.local(day, 23))
    assert [r.channel for r in rows] == ["self_service"]


async def test_tampered_and_expired_links_are_refused(client, shop, monkeypatch) -> None:
    booked = await service.book(shop.tenant_id, AppointmentCreate(
        vehicle_id=shop.vehicle_id, starts_at=shop.local(future_day(), 9), job_codes=["OIL"]),
        channel="portal", actor="t")
    path = service.manage_path(shop.tenant_id, booked.appointment.id)
    tampered = await client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400
    cancel = await client.post(path[:-3] + "xyz/cancel", data={
        "_csrf_token": client.cookies.get("dh_csrf")})
    assert cancel.status_code == 400
    survey_token = links.sign_link("survey", {"t": str(shop.tenant_id)})
    assert (await client.get(f"/c/appointments/{survey_token}")).status_code == 400
    monkeypatch.setattr("dealerhub.platform.appointments._links.MANAGE_MAX_AGE", -1)
    expired = await client.get(path)
    assert expired.status_code == 410
    row = await service.get_appointment(shop.tenant_id, booked.appointment.id)
    assert row.status == "booked"


async def test_booking_form_finds_the_customers_car(client, shop) -> None:
    from dealerhub.tenants.vehicles.service import get_vehicle

    vehicle = await get_vehicle(shop.tenant_id, shop.vehicle_id)
    await login_page_session(client, shop.dealer.emails["service_advisor"])
    found = await client.get("/appointments/new", params={"q": vehicle.vin[:8]})
    assert f"customer_id={shop.customer_id}" in found.text
    listed = await client.get("/appointments/new", params={"customer_id": str(shop.customer_id)})
    assert f"vehicle_id={shop.vehicle_id}" in listed.text
