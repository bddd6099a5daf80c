"""Sign-in, sign-out, language switch and the two dashboards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlparse

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from msgspec import Struct

from dealerhub.platform import auth
from dealerhub.platform.audit import AUDIT_ACTOR_KEY
from dealerhub.platform.auth import CurrentUser
from dealerhub.platform.tables import AppUser, Dealer
from dealerhub.platform.web.i18n import LOCALE_COOKIE, LOCALES, gettext_for, request_locale
from dealerhub.platform.web.nav import tiles_for
from dealerhub.platform.web.pages import page
from dealerhub.platform.web.session import rotate_session


class LoginForm(Struct):
    email: str = ""
    password: str = ""
    next: str = ""


class PasswordForm(Struct):
    current_password: str = ""
    new_password: str = ""


async def change_password(
    user: CurrentUser, current: str, new: str, _: Callable[[str], str]
) -> tuple[AppUser | None, dict[str, str]]:
    """The page's and the API's password change: the updated user, or {field: message}."""
    try:
        return await auth.change_password(user.email, current, new), {}
    except auth.LoginRefused as refused:
        message = (
            _("Account locked after too many wrong passwords. Try again later.")
            if refused.locked_until
            else _("The current password is wrong.")
        )
        return None, {"current_password": message}
    except auth.PasswordRefused as refused:
        return None, {"new_password": _(str(refused))}


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths, so the login form is no open redirect."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


async def dealer_name(dealer_id: Any) -> str:
    row = await Dealer.select(Dealer.name).where(Dealer.id == dealer_id).first()
    return row["name"] if row else ""


def home_for(user: CurrentUser) -> str:
    return "/hq" if user.is_oem else "/"


class LoginController(Controller):
    """Sign-in; mounted behind the login rate limit."""

    @get("/login", exclude_from_auth=True, include_in_schema=False)
    async def login_form(self, request: Request, next: str | None = None) -> Template:
        return page(request, "login.html", next=safe_next(next, ""))

    @post("/login", exclude_from_auth=True, include_in_schema=False)
    async def login(
        self,
        request: Request,
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Any:
        request.scope[AUDIT_ACTOR_KEY] = data.email[:254]  # type: ignore[literal-required]
        _ = gettext_for(request_locale(request))
        try:
            user = await auth.authenticate_password(data.email, data.password)
        except auth.LoginRefused as refused:
            message = (
                _("Account locked after too many wrong passwords. Try again later.")
                if refused.locked_until
                else _("Wrong e-mail or password.")
            )
            return page(
                request,
                "login.html",
                status_code=401,
                error=message,
                email=data.email,
                next=safe_next(data.next, ""),
            )
        await start_session(request, user)
        return Redirect(safe_next(data.next, home_for(auth._to_current(user))), status_code=303)


async def start_session(request: Request, user: AppUser) -> None:
    """A fresh session id for a user who just proved who they are."""
    await rotate_session(request, request.app.state.session_config)
    request.set_session({"user_id": str(user.id), "v": user.session_version})


class ShellController(Controller):
    @post("/logout", include_in_schema=False)
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/login", status_code=303)

    @get("/account/password", include_in_schema=False)
    async def password_form(self, request: Request) -> Template:
        return page(request, "password.html", errors={})

    @post("/account/password", include_in_schema=False)
    async def password_change(
        self,
        request: Request,
        data: Annotated[PasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Any:
        """Every other session and token of the user ends; this one continues under a new id."""
        _ = gettext_for(request_locale(request))
        user, errors = await change_password(
            request.user, data.current_password, data.new_password, _
        )
        if user is None:
            return page(request, "password.html", status_code=400, errors=errors)
        await start_session(request, user)
        return page(request, "password.html", errors={}, changed=True)

    @get("/lang/{code:str}", exclude_from_auth=True, include_in_schema=False)
    async def switch_language(self, code: str, next: str | None = None) -> Response:
        response = Redirect(safe_next(next, "/"), status_code=303)
        if code in LOCALES:
            response.set_cookie(
                LOCALE_COOKIE, code, max_age=365 * 86400, samesite="lax", httponly=True
            )
        return response

    @get("/", include_in_schema=False)
    async def dealer_dashboard(self, request: Request) -> Any:
        user: CurrentUser = request.user
        if user.is_oem:
            return Redirect("/hq", status_code=303)
        return page(
            request,
            "dashboard.html",
            tiles=await tiles_for("dealer", user),
            scope_name=await dealer_name(user.tenant_id),
        )

    @get("/hq", include_in_schema=False)
    async def hq_dashboard(self, request: Request) -> Any:
        user: CurrentUser = request.user
        if not user.is_oem:
            return Redirect("/", status_code=303)
        _ = gettext_for(request_locale(request))
        return page(
            request,
            "dashboard.html",
            tiles=await tiles_for("hq", user),
            scope_name=_("National view"),
        )
