"""Sign-in, lockout, tokens, API keys and role guards through the real HTTP stack."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from dealerhub.platform import auth
from dealerhub.platform.tables import AppUser, AuditLog
from tests.conftest import PASSWORD, bearer_for, login_page_session

pytestmark = pytest.mark.anyio


async def test_password_is_stored_as_argon2(dealer_a) -> None:
    user = await AppUser.objects().where(AppUser.id == dealer_a.users["dealer_admin"]).first()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_login_sets_secure_session_and_shows_dashboard(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["service_advisor"])
    cookie_header = [h for h in client.cookies.jar if h.name == "dh_session"]
    assert cookie_header, "no session cookie"
    page = await client.get("/")
    assert page.status_code == 200
    assert dealer_a.code in page.text  # the dealer's name carries its code


async def test_session_cookie_flags(client, dealer_a) -> None:
    page = await client.get("/login")
    token = client.cookies.get("dh_csrf")
    response = await client.post(
        "/login",
        data={"email": dealer_a.emails["cs_agent"], "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    set_cookie = [
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("dh_session=")
    ]
    assert set_cookie and "HttpOnly" in set_cookie[0] and "SameSite=lax" in set_cookie[0]
    assert page.status_code == 200


async def test_login_form_without_csrf_token_is_refused(client, dealer_a) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": dealer_a.emails["cs_agent"], "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403


async def test_session_id_changes_at_login(client, dealer_a) -> None:
    await client.get("/login")
    client.cookies.set("dh_session", "f" * 64, domain="testserver.local")
    await login_page_session(client, dealer_a.emails["cs_agent"])
    assert client.cookies.get("dh_session") not in (None, "f" * 64)


async def test_logout_invalidates_the_session(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["cs_agent"])
    stolen = client.cookies.get("dh_session")
    response = await client.post(
        "/logout", headers={"x-csrftoken": client.cookies.get("dh_csrf")}, follow_redirects=False
    )
    assert response.status_code == 303
    client.cookies.set("dh_session", stolen, domain="testserver.local")
    again = await client.get("/", follow_redirects=False)
    assert again.status_code == 303 and "/login" in again.headers["location"]


async def test_ten_wrong_passwords_lock_the_account_for_15_minutes(client, dealer_a) -> None:
    email = dealer_a.emails["service_advisor"]
    for _ in range(auth.MAX_FAILED_LOGINS):
        response = await client.post(
            "/api/v1/auth/token", json={"email": email, "password": "nope-nope-1"}
        )
        assert response.status_code == 401
    refused = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 401
    assert "locked" in refused.json()["title"]
    user = await AppUser.objects().where(AppUser.email == email).first()
    assert user.locked_until - datetime.now(UTC) > timedelta(minutes=14)
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert (await auth.authenticate_password(email, PASSWORD, now=later)).id == user.id


async def test_login_is_rate_limited(database, dealer_a) -> None:
    from dealerhub.app import create_app
    from dealerhub.platform.config import get_settings

    settings = dataclasses.replace(
        get_settings(),
        login_attempts_per_minute=3,
        redis_namespace=f"rate-limit-test-{uuid.uuid4().hex}",
    )
    async with AsyncTestClient(app=create_app(settings, embedded_jobs=False)) as limited:
        codes = [
            (
                await limited.post(
                    "/api/v1/auth/token", json={"email": "x@y.example", "password": "wrong-pass-1"}
                )
            ).status_code
            for _ in range(4)
        ]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429


async def test_bearer_token_and_me(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["dealer_id"] == str(dealer_a.id)
    assert (
        await client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    ).status_code == 401


async def test_api_key_shown_once_hashed_scoped_and_revocable(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    created = await client.post(
        "/api/v1/api-keys", json={"name": "DMS", "scopes": ["read"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    listed = await client.get("/api/v1/api-keys", headers=headers)
    assert "key" not in listed.json()[0]
    assert key not in listed.text
    key_headers = {"Authorization": f"Bearer {key}"}
    me = await client.get("/api/v1/me", headers=key_headers)
    assert me.status_code == 200 and me.json()["role"] == "integration"
    # an integration key may not manage keys
    assert (await client.get("/api/v1/api-keys", headers=key_headers)).status_code == 403
    revoked = await client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await client.get("/api/v1/me", headers=key_headers)).status_code == 401


async def test_unknown_scope_is_a_named_400(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    response = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["root"]}, headers=headers
    )
    assert response.status_code == 400
    assert "scopes" in response.text


async def test_roles_are_enforced(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["cs_agent"])
    assert (await client.get("/api/v1/api-keys", headers=headers)).status_code == 403


async def test_state_changes_are_audited(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    await client.post("/api/v1/api-keys", json={"name": "audited"}, headers=headers)
    rows = await AuditLog.objects().where(
        (AuditLog.user_id == dealer_a.users["dealer_admin"])
        & (AuditLog.target == "/api/v1/api-keys")
    )
    assert rows and rows[0].tenant_id == dealer_a.id and rows[0].status_code == 201
    assert rows[0].action == "POST"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": 5}, "name"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_bodies_name_the_field(client, dealer_a, body, field) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    response = await client.post("/api/v1/api-keys", json=body, headers=headers)
    assert response.status_code == 400
    assert field in response.text


async def test_malformed_json_and_oversized_bodies(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["dealer_admin"])
    bad = await client.post(
        "/api/v1/api-keys",
        content=b"{not json",
        headers={**headers, "content-type": "application/json"},
    )
    assert bad.status_code == 400
    huge = await client.post(
        "/api/v1/api-keys",
        content=b"x" * (1024 * 1024 + 10),
        headers={**headers, "content-type": "application/json"},
    )
    assert huge.status_code == 413


async def test_api_key_scopes_round_trip_through_the_database(dealer_a) -> None:
    issued = await auth.create_api_key(dealer_a.id, "scoped", ["read", "events"], None)
    auth._credential_cache.clear()
    user = await auth.user_for_api_key(issued.plaintext)
    assert user is not None and user.scopes == frozenset({"read", "events"})
    listed = await auth.list_api_keys(dealer_a.id)
    assert listed[0].scopes == ["events", "read"]


async def test_sign_out_everywhere_ends_cached_tokens(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["cs_agent"])
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    await auth.end_all_sessions(dealer_a.users["cs_agent"])
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_api_key_page_creates_shows_once_and_revokes(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    csrf = client.cookies.get("dh_csrf")
    created = await client.post(
        "/settings/api-keys", data={"name": "呼叫中心", "scopes": "read", "_csrf_token": csrf}
    )
    assert created.status_code == 200
    key = created.text.split('<code class="secret">')[1].split("</code>")[0]
    assert key.startswith(auth.API_KEY_PREFIX)
    listing = await client.get("/settings/api-keys")
    assert "呼叫中心" in listing.text and key not in listing.text
    (row,) = [k for k in await auth.list_api_keys(dealer_a.id) if k.name == "呼叫中心"]
    revoked = await client.post(
        f"/settings/api-keys/{row.id}/revoke", data={"_csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert (await auth.get_api_key(dealer_a.id, row.id)).revoked_at is not None


async def test_api_key_page_is_for_dealer_admins_only(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["cs_agent"])
    assert (await client.get("/settings/api-keys")).status_code == 403
