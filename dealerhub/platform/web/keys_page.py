"""The dealer admin's page for integration keys (the JSON API is in `api.py`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Struct

from dealerhub.platform import auth
from dealerhub.platform.auth import dealer_admin_only
from dealerhub.platform.web.i18n import gettext_for, request_locale
from dealerhub.platform.web.nav import register_nav
from dealerhub.platform.web.pages import page

register_nav("dealer", "/settings/api-keys", "Integration keys", {"dealer_admin"}, order=900)


class ApiKeyForm(Struct):
    name: str = ""
    scopes: list[str] | str = "read"


class ApiKeyPagesController(Controller):
    path = "/settings/api-keys"
    guards = [dealer_admin_only]
    include_in_schema = False

    async def _render(self, request: Request, **context: Any) -> Template:
        keys = await auth.list_api_keys(request.user.tenant_id)
        return page(
            request, "api_keys.html", keys=keys, scopes=sorted(auth.API_KEY_SCOPES), **context
        )

    @get("/")
    async def list_keys(self, request: Request) -> Template:
        return await self._render(request)

    @post("/")
    async def create_key(
        self,
        request: Request,
        data: Annotated[ApiKeyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        _ = gettext_for(request_locale(request))
        scopes = [data.scopes] if isinstance(data.scopes, str) else data.scopes
        name = data.name.strip()
        if not name or len(name) > 100:
            return await self._render(request, error=_("Give the key a name (1–100 characters)."))
        try:
            issued = await auth.create_api_key(
                request.user.tenant_id, name, scopes, request.user.id
            )
        except ValueError as error:
            return await self._render(request, error=str(error))
        return await self._render(request, created=issued.plaintext)

    @post("/{api_key_id:uuid}/revoke")
    async def revoke_key(self, request: Request, api_key_id: uuid.UUID) -> Redirect:
        if await auth.revoke_api_key(request.user.tenant_id, api_key_id) is None:
            raise NotFoundException("no such API key")
        return Redirect("/settings/api-keys", status_code=303)
