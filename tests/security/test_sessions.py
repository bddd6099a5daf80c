"""Cookies, session rotation at sign-in, logout, password changes and the password policy,
through the real HTTP stack."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar.testing import AsyncTestClient

from dealerhub.app import create_app
from dealerhub.demo import DEMO_PASSWORD, OEM_LOGINS, _check_demo_password, dealer_logins
from dealerhub.platform import auth
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import AppUser
from tests.conftest import PASSWORD, bearer_for, login_page_session

pytestmark = pytest.mark.anyio
NEW_PASSWORD = "Tide-pool-Lantern-42"


def set_cookies(response) -> dict[str, str]:
    return {
        value.split("=", 1)[0]: value
        for name, value in response.headers.multi_items()
        if name == "set-cookie"
    }


@pytest.fixture(params=[True, False], ids=["secure", "embedded-http"])
async def app_client(request, database) -> AsyncIterator[tuple[bool, AsyncTestClient]]:
    settings = dataclasses.replace(get_settings(), secure_cookies=request.param)
    base_url = "https://testserver.local" if request.param else "http://testserver.local"
    app = create_app(settings, embedded_jobs=False)
    async with AsyncTestClient(app=app, base_url=base_url) as test_client:
        yield request.param, test_client


async def test_cookie_flags(app_client, dealer_a) -> None:
    """Session and CSRF cookies: HttpOnly and SameSite=Lax always; Secure unless the app
    runs on the embedded defaults (plain http on a laptop, DEALERHUB_SECURE_COOKIES=false)."""
    secure, test_client = app_client
    form = await test_client.get("/login")
    csrf = set_cookies(form)["dh_csrf"]
    response = await test_client.post(
        "/login",
        data={"email": dealer_a.emails["cs_agent"], "password": PASSWORD,
              "_csrf_token": test_client.cookies.get("dh_csrf")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session = set_cookies(response)["dh_session"]
    for cookie in (csrf, session):
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in attributes, cookie
        assert "samesite=lax" in attributes, cookie
        assert ("secure" in attributes) is secure, cookie


def test_secure_cookies_default_follows_a_configured_secret(tmp_path) -> None:
    from dealerhub.platform.config import load_settings

    var = {"DEALERHUB_VAR_DIR": str(tmp_path)}
    assert load_settings({**var, "SECRET_KEY": "x" * 40, "CHANNEL_KEY": "y" * 40}).secure_cookies
    assert not load_settings(var).secure_cookies


async def test_session_id_rotates_at_sign_in(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["cs_agent"])
    first = client.cookies.get("dh_session")
    await login_page_session(client, dealer_a.emails["service_advisor"])
    second = client.cookies.get("dh_session")
    assert first and second and first != second
    client.cookies.set("dh_session", first, domain="testserver.local")
    stale = await client.get("/", follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"].startswith("/login")


async def test_logout_ends_the_session_but_not_separately_issued_tokens(client, dealer_a) -> None:
    """Page sessions and API bearer tokens are separate credentials by design: sign-out ends
    the cookie's session; tokens end at a password change (or sign-out everywhere)."""
    email = dealer_a.emails["cs_agent"]
    token = await bearer_for(client, email)
    await login_page_session(client, email)
    old = client.cookies.get("dh_session")
    assert (await client.get("/customers")).status_code == 200
    out = await client.post("/logout", data={"_csrf_token": client.cookies.get("dh_csrf")},
                            follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("dh_session", old, domain="testserver.local")
    again = await client.get("/customers", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    assert (await client.get("/api/v1/me", headers=token)).status_code == 200


async def test_password_change_ends_every_other_session_and_token(client, dealer_a) -> None:
    email = dealer_a.emails["service_advisor"]
    old_token = await bearer_for(client, email)
    await login_page_session(client, email)
    other_device = httpx.Cookies(client.cookies)  # a second browser's cookie jar
    client.cookies.clear()
    await login_page_session(client, email)
    before = client.cookies.get("dh_session")
    changed = await client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "_csrf_token": client.cookies.get("dh_csrf")},
    )
    assert changed.status_code == 200, changed.text
    assert client.cookies.get("dh_session") != before
    assert (await client.get("/customers")).status_code == 200
    client.cookies = other_device
    assert (await client.get("/customers", follow_redirects=False)).status_code == 303
    assert (await client.get("/api/v1/me", headers=old_token)).status_code == 401
    signed_in = await client.post("/api/v1/auth/token",
                                  json={"email": email, "password": NEW_PASSWORD})
    assert signed_in.status_code == 200
    refused = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("new_password", "reason"),
    [
        ("Short-1", "Use at least 12 characters."),
        ("alllowercaseletters", "Mix at least two of"),
        ("123456789012345", "Mix at least two of"),
        ("password1234", "too common"),
        ("Password1234", "too common"),
        ("{local}-Extra-99", "e-mail address or name"),
    ],
)
async def test_api_password_policy_names_the_field(client, dealer_a, new_password, reason) -> None:
    email = dealer_a.emails["cs_agent"]
    headers = await bearer_for(client, email)
    client.cookies.set("lang", "en", domain="testserver.local")
    body = {"current_password": PASSWORD,
            "new_password": new_password.format(local=email.split("@")[0])}
    response = await client.post("/api/v1/me/password", json=body, headers=headers)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["errors"] == [{"key": "new_password", "message": problem["title"]}]
    assert reason in problem["title"]
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # unchanged


async def test_api_password_change_in_chinese_and_wrong_current(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["cs_agent"])
    zh = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers={**headers, "accept-language": "zh-CN"},
    )
    assert zh.status_code == 400 and zh.json()["title"] == "密码至少需要 12 个字符。"
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-the-password-1", "new_password": NEW_PASSWORD},
        headers={**headers, "accept-language": "en"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["key"] == "current_password"
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200


async def test_api_keys_have_no_password(client, dealer_a) -> None:
    issued = await auth.create_api_key(dealer_a.id, "pw", ["read", "write"], None)
    response = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {issued.plaintext}"},
    )
    assert response.status_code == 403


async def test_page_password_policy_shows_the_reason_in_both_languages(client, dealer_a) -> None:
    await login_page_session(client, dealer_a.emails["dealer_admin"])
    reasons = (("en", "Use at least 12 characters."), ("zh-CN", "密码至少需要 12 个字符。"))
    for lang, expected in reasons:
        client.cookies.set("lang", lang, domain="testserver.local")
        response = await client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": "short",
                  "_csrf_token": client.cookies.get("dh_csrf")},
        )
        assert response.status_code == 400 and expected in response.text
    user = await AppUser.objects().where(AppUser.id == dealer_a.users["dealer_admin"]).first()
    assert auth._safe_verify(user.password_hash, PASSWORD)


def test_demo_and_fixture_passwords_obey_the_policy() -> None:
    logins = [*OEM_LOGINS, *dealer_logins("D001")]
    _check_demo_password([AppUser(email=email, display_name="王伟") for _, email in logins])
    assert auth.password_problem(DEMO_PASSWORD, "admin@d001.demo") is None
    assert auth.password_problem(PASSWORD, "cs_agent.t0000@test.example") is None
    with pytest.raises(auth.PasswordRefused):
        auth.hash_new_password("dealerhub", "x@y.example")
