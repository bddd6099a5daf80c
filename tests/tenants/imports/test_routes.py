"""Imports over HTTP: portal upload runs as a job with a progress page; bulk JSON API."""

from __future__ import annotations

import pytest

from tests.conftest import bearer_for, login_page_session

pytestmark = pytest.mark.anyio
GBK = "客户编号,姓名,手机\nH1,孙丽,13800007777\nH2,周强,999\n".encode("gbk")


async def test_portal_upload_runs_in_the_background_with_progress(client, dealer_a,
                                                                  jobs_worker) -> None:
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    token = client.cookies.get("dh_csrf")
    response = await client.post("/imports/", data={"kind": "customers", "_csrf_token": token},
                                 files={"file": ("dms.csv", GBK, "text/csv")},
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    jobs_worker.drain()
    page = await client.get(response.headers["location"])
    assert page.status_code == 200 and "100%" in page.text and "phone" in page.text
    partial = await client.get(response.headers["location"], headers={"hx-request": "true"})
    assert partial.text.lstrip().startswith('<div id="progress"')


async def test_upload_of_a_non_spreadsheet_reports_a_file_error(client, dealer_a,
                                                                jobs_worker) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    response = await client.post("/api/v1/imports/files", headers=headers,
                                 content=b"PK\x03\x04junk",
                                 params={"kind": "vehicles", "filename": "cars.xlsx"})
    assert response.status_code == 201
    jobs_worker.drain()
    job = (await client.get(f"/api/v1/imports/{response.json()['id']}", headers=headers)).json()
    assert job["status"] == "failed" and "not an Excel spreadsheet" in job["file_error"]


async def test_bulk_json_api_reports_rows_and_needs_the_imports_scope(client, dealer_a) -> None:
    from dealerhub.platform.auth import create_api_key

    admin = await bearer_for(client, dealer_a.emails["dealer_admin"])
    rows = {"rows": [{"external_id": "B1", "name": "钱多"},
                     {"external_id": "B1", "name": "钱多多"},
                     {"external_id": "B2", "name": "", "phone": "13800008888"}]}
    response = await client.post("/api/v1/imports", headers=admin, json=rows,
                                 params={"kind": "customers"})
    assert response.status_code == 201
    report = response.json()
    assert (report["applied_rows"], report["error_rows"]) == (1, 2)
    assert {(e["row_number"], e["field"]) for e in report["errors"]} == {
        (2, "external_id"), (3, "name")}
    unknown = await client.post("/api/v1/imports", headers=admin, json=rows,
                                params={"kind": "cats"})
    assert unknown.status_code == 400
    read_only = await create_api_key(dealer_a.id, "ro", ["read"], None)
    refused = await client.post("/api/v1/imports", json=rows, params={"kind": "customers"},
                                headers={"Authorization": f"Bearer {read_only.plaintext}"})
    assert refused.status_code == 403
    advisor = await bearer_for(client, dealer_a.emails["service_advisor"])
    assert (await client.post("/api/v1/imports", headers=advisor, json=rows,
                              params={"kind": "customers"})).status_code == 403


async def test_portal_streams_the_raw_file(client, dealer_a, jobs_worker) -> None:
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    headers = {"x-csrftoken": client.cookies.get("dh_csrf") or ""}
    response = await client.post("/imports/stream", content=GBK, headers=headers,
                                 params={"kind": "customers", "filename": "big.csv"},
                                 follow_redirects=False)
    assert response.status_code == 303, response.text
    jobs_worker.drain()
    page = await client.get(response.headers["location"])
    assert "100%" in page.text and "phone" in page.text
