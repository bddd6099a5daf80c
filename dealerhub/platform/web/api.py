"""The core's JSON API: bearer tokens, the caller's identity, dealer API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)

from dealerhub.platform import auth
from dealerhub.platform.auth import CurrentUser, dealer_admin_only
from dealerhub.platform.tables import ApiKey
from dealerhub.platform.web.i18n import gettext_for, request_locale
from dealerhub.platform.web.problems import found
from dealerhub.platform.web.routes import AUDIT_ACTOR_KEY, change_password


class StrictStruct(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: unknown fields are an error, not silently dropped."""


class TokenRequest(StrictStruct):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PasswordChange(StrictStruct):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=400)]


class TokenRead(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int


class MeRead(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    role: str
    dealer_id: uuid.UUID | None
    locale: str


class ApiKeyCreate(StrictStruct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: list[str] = msgspec.field(default_factory=lambda: ["read"])


class ApiKeyRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str


def _api_key_read(row: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        row.id,
        row.name,
        row.prefix,
        list(row.scopes),
        row.created_at,
        row.revoked_at,
        row.last_used_at,
    )


class TokenController(Controller):
    """Bearer tokens; mounted behind the login rate limit."""

    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/token", exclude_from_auth=True, status_code=200)
    async def token(self, request: Request, data: TokenRequest) -> TokenRead:
        """Exchange e-mail and password for a bearer token (12 hours)."""
        request.scope[AUDIT_ACTOR_KEY] = data.email  # type: ignore[literal-required]
        try:
            user = await auth.authenticate_password(data.email, data.password)
        except auth.LoginRefused as refused:
            raise NotAuthorizedException(str(refused)) from None
        return TokenRead(auth.issue_token(user), "bearer", auth.TOKEN_MAX_AGE_SECONDS)


class AuthApiController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @get("/me")
    async def me(self, request: Request) -> MeRead:
        user: CurrentUser = request.user
        return MeRead(
            user.id, user.email, user.display_name, user.role, user.tenant_id, user.locale
        )

    @post("/me/password", status_code=200)
    async def change_password(self, request: Request, data: PasswordChange) -> TokenRead:
        """Change the caller's password (at least 12 characters, two kinds of character,
        not the e-mail or name, not a common one). Every earlier session and token ends;
        the answer carries a new token."""
        user: CurrentUser = request.user
        if user.via == "api_key":
            raise PermissionDeniedException("API keys have no password")
        _ = gettext_for(request_locale(request))
        updated, errors = await change_password(
            user, data.current_password, data.new_password, _
        )
        if updated is None:
            (field, message), = errors.items()
            raise ValidationException(message, extra=[{"key": field, "message": message}])
        return TokenRead(auth.issue_token(updated), "bearer", auth.TOKEN_MAX_AGE_SECONDS)


class ApiKeyController(Controller):
    """A dealer admin's integration keys; the plaintext key is shown once, at creation."""

    path = "/api/v1/api-keys"
    tags = ["api keys"]
    guards = [dealer_admin_only]

    @get("/")
    async def list_keys(self, request: Request) -> list[ApiKeyRead]:
        return [_api_key_read(row) for row in await auth.list_api_keys(request.user.tenant_id)]

    @post("/")
    async def create_key(self, request: Request, data: ApiKeyCreate) -> ApiKeyCreated:
        try:
            issued = await auth.create_api_key(
                request.user.tenant_id, data.name, data.scopes, request.user.id
            )
        except ValueError as error:
            raise ValidationException(
                str(error), extra=[{"key": "scopes", "message": str(error)}]
            ) from None
        base = _api_key_read(issued.api_key)
        return ApiKeyCreated(**msgspec.structs.asdict(base), key=issued.plaintext)

    @get("/{api_key_id:uuid}")
    async def get_key(self, request: Request, api_key_id: uuid.UUID) -> ApiKeyRead:
        row = found(await auth.get_api_key(request.user.tenant_id, api_key_id), "API key")
        return _api_key_read(row)

    @delete("/{api_key_id:uuid}", status_code=200)
    async def revoke_key(self, request: Request, api_key_id: uuid.UUID) -> ApiKeyRead:
        row = found(await auth.revoke_api_key(request.user.tenant_id, api_key_id), "API key")
        return _api_key_read(row)
