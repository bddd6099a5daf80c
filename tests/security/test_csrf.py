"""CSRF on every form: walk every GET page in the app's route table, render it as each
role with real ids, parse its forms, and check each POST form carries the token and its
target refuses a request without one.

Pages are found from the route table, so a page added later is walked without touching
this file; a path parameter without a way to make an id here fails the walk.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from litestar.routes import HTTPRoute

from tests.conftest import DealerFixture, create_oem_users, login_page_session
from tests.isolation_factories import PATH_PARAM_FACTORIES

pytestmark = pytest.mark.anyio
PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
NOT_PAGES = ("/api/", "/static", "/schema", "/health", "/ready", "/hooks/", "/lang/")
DEALER_ROLES = ("dealer_admin", "service_advisor", "cs_agent")
# Targets that take no CSRF token by design, and what protects them instead.
EXEMPT = {
    "/c/unsubscribe/": "one-click unsubscribe (RFC 8058: mail clients POST without a page); "
    "the signed, expiring link is the credential and the only effect is opting out",
    "/c/survey/": "the car owner's survey form: no login and no ambient authority - the "
    "signed, expiring link is the credential and binds the answers to one invitation, "
    "which takes each answer once; a forged post could only do what anyone holding the "
    "link can do, and the page then also works in browsers that refuse cookies",
}


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    htmx: bool = False


class FormParser(HTMLParser):
    """Forms (method, action, hidden fields) and hx-post/put/patch/delete elements."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.htmx_csrf_header = ""
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body" and "hx-headers" in a:
            self.htmx_csrf_header = a["hx-headers"]
        for verb in ("hx-post", "hx-put", "hx-patch", "hx-delete"):
            if verb in a:
                target = urljoin(self.page, a[verb] or self.page)
                self.forms.append(Form(self.page, verb[3:].upper(), target, htmx=True))
        if tag == "form":
            self._open = Form(
                self.page,
                a.get("method", "get").upper(),
                urljoin(self.page, a.get("action") or self.page),
            )
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and a.get("name"):
            self._open.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def exempt_reason(target: str) -> str | None:
    path = urlsplit(target).path
    return next((why for prefix, why in EXEMPT.items() if path.startswith(prefix)), None)


def page_paths(app: Any) -> list[str]:
    paths = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(NOT_PAGES):
            continue
        if any("GET" in handler.http_methods for handler in route.route_handlers):
            paths.append(route.path)
    return sorted(paths)


async def customer_links(dealer: DealerFixture, ids: dict[str, str]) -> dict[str, str]:
    """Signed tokens for the car owners' pages, made the way the app makes them; keyed by
    the route path's prefix before `{token}`."""
    from dealerhub.platform.appointments._links import book_token, manage_token
    from dealerhub.platform.links import sign_link
    from dealerhub.survey.triggers.service import survey_token
    from tests.survey.conftest import sent_invitation

    invitation = await sent_invitation(dealer.id)
    assert invitation is not None, "no survey invitation to walk the survey page with"
    return {
        "/c/appointments/book/": book_token(dealer.id, uuid.UUID(ids["vehicle_id"])),
        "/c/appointments/": manage_token(dealer.id, uuid.UUID(ids["appointment_id"])),
        "/c/survey/": survey_token(dealer.id, invitation.id),
        "/c/unsubscribe/": sign_link("unsubscribe", {"t": str(dealer.id), "c": ids["customer_id"]}),
    }


def fill(path: str, ids: dict[str, str], links: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "token":
            prefix = path[: match.start()]
            return links[prefix]
        if name not in ids:
            raise AssertionError(f"no id for path parameter {name!r} of {path}")
        return ids[name]

    return PARAM.sub(value, path)


def principals(dealer: DealerFixture, oem_emails: dict[str, str], path: str) -> list[str]:
    if path.startswith("/c/") or path == "/login":
        return [""]  # car owners and visitors: no session
    if path.startswith("/hq"):
        return list(oem_emails.values())
    return [dealer.emails[role] for role in DEALER_ROLES]


async def test_every_post_form_carries_the_token_and_its_target_needs_it(
    client, dealer_a
) -> None:
    from dealerhub.survey.seed import seed_bank

    await seed_bank()
    ids = {name: str(await make(dealer_a)) for name, make in PATH_PARAM_FACTORIES.items()}
    ids["dealer_id"] = str(dealer_a.id)
    links = await customer_links(dealer_a, ids)
    oem = await create_oem_users()
    rendered: set[str] = set()
    not_html: dict[str, int] = {}
    forms: dict[tuple[str, str], tuple[str, Form, str]] = {}
    problems: list[str] = []
    sessions: dict[str, httpx.Cookies] = {}

    async def act_as(email: str) -> None:
        """One sign-in per principal; its cookies are put back for each later request."""
        if email not in sessions:
            client.cookies.clear()
            if email:
                await login_page_session(client, email)
            sessions[email] = httpx.Cookies(client.cookies)
        client.cookies = httpx.Cookies(sessions[email])

    for path in page_paths(client.app):
        url = fill(path, ids, links)
        for email in principals(dealer_a, oem.emails, path):
            await act_as(email)
            response = await client.get(url, follow_redirects=False)
            if response.status_code != 200 or "text/html" not in response.headers.get(
                "content-type", ""
            ):
                not_html[path] = response.status_code
                continue
            rendered.add(path)
            parser = FormParser(url)
            parser.feed(response.text)
            for form in parser.forms:
                if form.method == "GET":
                    continue
                if form.htmx:
                    carried = "x-csrftoken" in parser.htmx_csrf_header and not re.search(
                        r'"x-csrftoken":\s*""', parser.htmx_csrf_header
                    )
                else:
                    carried = bool(form.fields.get("_csrf_token"))
                if not carried and not exempt_reason(form.action):
                    problems.append(f"{email or 'visitor'}: form {form.method} {form.action} "
                                    f"on {url} has no CSRF token")
                forms.setdefault((form.method, urlsplit(form.action).path), (email, form, url))
    assert len(rendered) >= 40, f"too few pages rendered: {sorted(rendered)}"
    print("rendered", len(rendered), "pages; not HTML or not 200:", not_html)
    print("checked", len(forms), "form targets")
    for (method, target), (email, form, page_url) in sorted(forms.items()):
        await act_as(email)
        if not email:
            await client.get(page_url)  # the visitor's CSRF cookie, as a browser would have it
        if exempt_reason(target):
            tampered = target[:-6] + ("AAAAAA" if not target.endswith("AAAAAA") else "BBBBBB")
            response = await client.request(method, tampered, data={}, follow_redirects=False)
            if response.status_code < 400:
                problems.append(f"exempt {target} accepted a tampered link")
            continue
        fields = {k: v for k, v in form.fields.items() if k != "_csrf_token"}
        response = await client.request(method, target, data=fields, follow_redirects=False)
        if response.status_code != 403 or "CSRF" not in response.text:
            problems.append(f"{method} {target} without a token -> {response.status_code}")
    assert not problems, "\n".join(problems)
