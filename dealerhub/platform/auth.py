"""Who is calling: users (argon2 passwords, sessions, bearer tokens), dealer API keys,
roles and the guards that enforce them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import TTLCache
from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import ApiKey, AppUser
from dealerhub.platform.tenancy import tenant_scope

OEM_ROLES = frozenset({"oem_admin", "oem_analyst", "oem_regional_manager"})
DEALER_ROLES = frozenset({"dealer_admin", "service_advisor", "cs_agent"})
# A dealer's auditor reads the access history of the dealer's customer records and
# nothing else: not a DEALER_ROLE, so no portal page with personal data admits it.
AUDITOR_ROLES = frozenset({"dealer_admin", "auditor"})
ROLES = OEM_ROLES | DEALER_ROLES | AUDITOR_ROLES | {"integration"}
API_KEY_SCOPES = frozenset({"read", "write", "appointments", "events", "imports"})

# Credentials checked in the last few seconds are trusted without another query; a
# revocation or sign-out-everywhere clears this process's entries at once, other
# processes within CREDENTIAL_CACHE_SECONDS.
CREDENTIAL_CACHE_SECONDS = 10
_credential_cache: TTLCache[tuple[str, str], CurrentUser] = TTLCache(
    maxsize=20_000, ttl=CREDENTIAL_CACHE_SECONDS
)
MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
TOKEN_MAX_AGE_SECONDS = 12 * 3600
API_KEY_PREFIX = "dhk_"

_hasher = PasswordHasher()
# A hash of a random password, verified when the e-mail is unknown so that timing does
# not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated caller, as every route and guard sees it."""

    id: uuid.UUID
    email: str
    display_name: str
    role: str
    tenant_id: uuid.UUID | None
    region_id: uuid.UUID | None = None
    locale: str = "zh-CN"
    via: str = "session"
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_oem(self) -> bool:
        return self.role in OEM_ROLES


class LoginRefused(Exception):
    """Wrong e-mail or password, or a locked account; the message is safe to show."""

    def __init__(self, message: str, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


def hash_password(password: str) -> str:
    return _hasher.hash(password)


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
# The most used passwords of public breach lists that a length rule alone would admit.
COMMON_PASSWORDS = frozenset({
    "password1234", "password12345", "password123456", "passw0rd1234", "123456789012",
    "qwerty123456", "qwertyuiop12", "1qaz2wsx3edc", "abc123456789", "iloveyou1234",
    "welcome12345", "admin1234567", "administrator", "letmein12345", "changeme1234",
    "woaini520131", "woaini1314520", "aa1234567890", "a12345678910", "zxcvbnm12345",
})


class PasswordRefused(ValueError):
    """A new password breaks the policy; the message is English, for `_()` to translate."""


def password_problem(password: str, email: str, display_name: str = "") -> str | None:
    """The password policy, applied wherever a password is set; the reason or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "Use at least 12 characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return "Use at most 200 characters."
    classes = (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    if sum(any(test(c) for c in password) for test in classes) < 2:
        return "Mix at least two of: lower-case letters, capitals, digits, symbols."
    lowered = password.lower()
    local_part = email.strip().lower().split("@")[0]
    personal = [local_part, *display_name.lower().split()]
    if any(len(part) >= 3 and part in lowered for part in personal):
        return "Do not use your e-mail address or name in the password."
    if lowered in COMMON_PASSWORDS:
        return "This password is too common; choose another."
    return None


def hash_new_password(password: str, email: str, display_name: str = "") -> str:
    """The hash to store for a password someone chose; refuses one that breaks the policy."""
    problem = password_problem(password, email, display_name)
    if problem:
        raise PasswordRefused(problem)
    return hash_password(password)


def _to_current(user: AppUser, via: str = "session") -> CurrentUser:
    return CurrentUser(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        tenant_id=user.dealer,
        region_id=user.region,
        locale=user.locale,
        via=via,
    )


async def authenticate_password(email: str, password: str, now: datetime | None = None) -> AppUser:
    """Check a password; 10 wrong ones in a row lock the account for 15 minutes."""
    now = now or datetime.now(UTC)
    user = await AppUser.objects().where(AppUser.email == email.strip().lower()).first()
    if user is None or not user.is_active:
        _safe_verify(_DUMMY_HASH, password)
        raise LoginRefused("wrong e-mail or password")
    if user.locked_until and user.locked_until > now:
        raise LoginRefused("account locked after too many wrong passwords", user.locked_until)
    if not _safe_verify(user.password_hash, password):
        failed = user.failed_logins + 1
        locked_until = now + LOCKOUT if failed >= MAX_FAILED_LOGINS else None
        await AppUser.update(
            {
                AppUser.failed_logins: 0 if locked_until else failed,
                AppUser.locked_until: locked_until,
            }
        ).where(AppUser.id == user.id)
        if locked_until:
            raise LoginRefused("account locked after too many wrong passwords", locked_until)
        raise LoginRefused("wrong e-mail or password")
    updates: dict[Any, Any] = {
        AppUser.failed_logins: 0,
        AppUser.locked_until: None,
        AppUser.last_login_at: now,
    }
    if _hasher.check_needs_rehash(user.password_hash):
        updates[AppUser.password_hash] = hash_password(password)
    await AppUser.update(updates).where(AppUser.id == user.id)
    return user


async def change_password(email: str, current_password: str, new_password: str) -> AppUser:
    """Set a new password the user chose. The current one is checked like a sign-in (wrong
    ones count towards the lockout); every session and bearer token of the user ends."""
    user = await authenticate_password(email, current_password)
    new_hash = hash_new_password(new_password, user.email, user.display_name)
    user.session_version += 1
    await AppUser.update(
        {AppUser.password_hash: new_hash, AppUser.session_version: user.session_version}
    ).where(AppUser.id == user.id)
    forget_credentials(user.id)
    return user


def _safe_verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="dealerhub-api-token")


def issue_token(user: AppUser) -> str:
    """A bearer token for the JSON API; logging out everywhere bumps `session_version`."""
    return _serializer().dumps({"u": str(user.id), "v": user.session_version})


def forget_credentials(principal_id: uuid.UUID) -> None:
    """Drop cached credentials of a user or API key (sign-out everywhere, revocation)."""
    for key, user in list(_credential_cache.items()):
        if user.id == principal_id:
            _credential_cache.pop(key, None)


async def user_for_session(user_id: str, version: int, via: str) -> CurrentUser | None:
    cache_key = (via, f"{user_id}:{version}")
    cached = _credential_cache.get(cache_key)
    if cached is not None:
        return cached
    try:
        uid = uuid.UUID(user_id)
    except ValueError:
        return None
    rows = await AppUser.select(*_USER_COLUMNS).where(AppUser.id == uid)
    if not rows or not rows[0]["is_active"] or rows[0]["session_version"] != version:
        return None
    user = _to_current(AppUser(_ignore_missing=True, **rows[0]), via)
    _credential_cache[cache_key] = user
    return user


_USER_COLUMNS = (
    AppUser.id,
    AppUser.email,
    AppUser.display_name,
    AppUser.role,
    AppUser.dealer,
    AppUser.region,
    AppUser.locale,
    AppUser.is_active,
    AppUser.session_version,
)


async def user_for_token(token: str) -> CurrentUser | None:
    cached = _credential_cache.get(("bearer", token))
    if cached is not None:
        return cached
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    user = await user_for_session(str(data.get("u")), int(data.get("v", 0)), "token")
    if user is not None:
        _credential_cache[("bearer", token)] = user
    return user


async def end_all_sessions(user_id: uuid.UUID) -> None:
    await AppUser.update({AppUser.session_version: AppUser.session_version + 1}).where(
        AppUser.id == user_id
    )
    forget_credentials(user_id)


def _key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    plaintext: str


async def create_api_key(
    tenant_id: uuid.UUID, name: str, scopes: list[str], created_by: uuid.UUID | None
) -> IssuedApiKey:
    """Mint a key; its plaintext exists only in the return value."""
    unknown = set(scopes) - API_KEY_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    async with tenant_scope(tenant_id):
        (row,) = await ApiKey.insert_in_tenant(
            ApiKey(
                name=name,
                prefix=prefix,
                key_hash=_key_hash(secret),
                scopes=sorted(scopes),
                created_by=created_by,
            )
        )
    return IssuedApiKey(row, f"{API_KEY_PREFIX}{tenant_id.hex}{prefix}{secret}")


async def user_for_api_key(presented: str) -> CurrentUser | None:
    """Keys carry their dealer's id, so the lookup itself runs inside that tenant's scope."""
    cached = _credential_cache.get(("api_key", presented))
    if cached is not None:
        return cached
    body = presented.removeprefix(API_KEY_PREFIX)
    if len(body) < 48:
        return None
    try:
        tenant_id = uuid.UUID(hex=body[:32])
    except ValueError:
        return None
    prefix, secret = body[32:40], body[40:]
    async with tenant_scope(tenant_id):
        row = (
            await ApiKey.objects_in_tenant()
            .where(ApiKey.prefix == prefix)
            .output(load_json=True)
            .first()
        )
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, _key_hash(secret)):
            return None
        await ApiKey.update_in_tenant({ApiKey.last_used_at: datetime.now(UTC)}).where(
            ApiKey.id == row.id
        )
    user = CurrentUser(
        id=row.id,
        email=f"api-key:{row.name}",
        display_name=row.name,
        role="integration",
        tenant_id=tenant_id,
        via="api_key",
        scopes=frozenset(row.scopes),
    )
    _credential_cache[("api_key", presented)] = user
    return user


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """API calls carry `Authorization: Bearer`; pages carry the session cookie."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        user: CurrentUser | None = None
        if header.lower().startswith("bearer "):
            credential = header[7:].strip()
            if credential.startswith(API_KEY_PREFIX):
                user = await user_for_api_key(credential)
            else:
                user = await user_for_token(credential)
        elif not connection.url.path.startswith("/api/"):
            session = connection.scope.get("session") or {}
            if session.get("user_id"):
                user = await user_for_session(
                    session["user_id"], int(session.get("v", 0)), "session"
                )
        if user is None:
            raise NotAuthorizedException("sign in, or send a valid bearer token or API key")
        return AuthenticationResult(user=user, auth=user.via)


def requires_roles(*roles: str):
    """A guard admitting only the given roles."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: CurrentUser = connection.user
        if user.role not in allowed:
            raise PermissionDeniedException("your role may not do this")

    return guard


def requires_scope(scope: str):
    """For integration keys: the key must carry the scope. Users pass by role instead."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: CurrentUser = connection.user
        if user.via == "api_key" and scope not in user.scopes:
            raise PermissionDeniedException(f"this API key lacks the '{scope}' scope")

    return guard


dealer_staff = requires_roles(*DEALER_ROLES)
dealer_admin_only = requires_roles("dealer_admin")
oem_staff = requires_roles(*OEM_ROLES)
oem_admin_only = requires_roles("oem_admin")
auditors = requires_roles(*AUDITOR_ROLES)


async def list_api_keys(tenant_id: uuid.UUID) -> list[ApiKey]:
    async with tenant_scope(tenant_id, write=False):
        return (
            await ApiKey.objects_in_tenant()
            .order_by(ApiKey.created_at, ascending=False)
            .output(load_json=True)
        )


async def get_api_key(tenant_id: uuid.UUID, api_key_id: uuid.UUID) -> ApiKey | None:
    return await ApiKey.get_for_tenant(tenant_id, api_key_id)


async def revoke_api_key(tenant_id: uuid.UUID, api_key_id: uuid.UUID) -> ApiKey | None:
    """Revoking twice keeps the first revocation time."""
    async with tenant_scope(tenant_id):
        row = await ApiKey.get_in_tenant(api_key_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await ApiKey.update_in_tenant({ApiKey.revoked_at: row.revoked_at}).where(
                ApiKey.id == row.id
            )
            forget_credentials(row.id)
        return row
