"""The composition root: the Litestar app with every component's routes, pages and jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig

from dealerhub.admin.routes import ADMIN_ROUTES
from dealerhub.admin.routes import TEMPLATES as ADMIN_TEMPLATES
from dealerhub.channels.routes import CHANNEL_ROUTES
from dealerhub.platform import audit, db, jobs, telemetry
from dealerhub.platform.appointments.routes import APPOINTMENT_ROUTES
from dealerhub.platform.appointments.routes import TEMPLATES as APPOINTMENT_TEMPLATES
from dealerhub.platform.audit import AuditMiddleware
from dealerhub.platform.auth import AuthenticationMiddleware
from dealerhub.platform.campaigns.routes import CAMPAIGN_ROUTES
from dealerhub.platform.campaigns.routes import TEMPLATES as CAMPAIGN_TEMPLATES
from dealerhub.platform.config import Settings, get_settings
from dealerhub.platform.health import HealthController
from dealerhub.platform.security_headers import add_security_headers
from dealerhub.platform.web import page, template_directories
from dealerhub.platform.web.api import ApiKeyController, AuthApiController, TokenController
from dealerhub.platform.web.i18n import gettext_for, request_locale
from dealerhub.platform.web.keys_page import ApiKeyPagesController
from dealerhub.platform.web.pages import SHELL_TEMPLATES
from dealerhub.platform.web.problems import PROBLEM_MEDIA_TYPE, ProblemResponses, problem_body
from dealerhub.platform.web.routes import LoginController, ShellController
from dealerhub.platform.web.session import SESSION_COOKIE, RotatingSessionConfig
from dealerhub.survey.routes import SURVEY_ROUTES
from dealerhub.survey.routes import TEMPLATES as SURVEY_TEMPLATES
from dealerhub.tenants.routes import TEMPLATES as TENANT_TEMPLATES
from dealerhub.tenants.routes import TENANT_ROUTES

log = logging.getLogger(__name__)
STATIC_DIR = SHELL_TEMPLATES.parent / "static"
PUBLIC_PATHS = [
    "^/login",
    "^/lang/",
    "^/health",
    "^/ready",
    "^/static/",
    "^/c/",
    "^/schema",
    "^/api/v1/auth/token",
    "^/favicon.ico",
    "^/hooks/",
]
async def _is_login_attempt(request: Request) -> bool:
    return request.method == "POST"


def route_handlers() -> list[Any]:
    """Every component's controllers; adding a component adds its list here."""
    return [
        ShellController,
        AuthApiController,
        ApiKeyController,
        ApiKeyPagesController,
        HealthController,
        *CHANNEL_ROUTES,
        *APPOINTMENT_ROUTES,
        *CAMPAIGN_ROUTES,
        *TENANT_ROUTES,
        *SURVEY_ROUTES,
        *ADMIN_ROUTES,
    ]


def _stores(settings: Settings) -> StoreRegistry:
    if settings.redis_url:
        root = RedisStore.with_client(
            url=settings.redis_url, namespace=f"{settings.redis_namespace}:stores"
        )
        return StoreRegistry(default_factory=root.with_namespace)
    base = settings.var_dir / "stores"

    def embedded_store(name: str) -> Store:
        """Sessions survive a restart on disk; counters such as rate limits live in memory."""
        if name != "sessions":
            return MemoryStore()
        (base / name).mkdir(parents=True, exist_ok=True)
        return FileStore(base / name)

    return StoreRegistry(default_factory=embedded_store)


def _is_page(request: Request) -> bool:
    """Not the API, nor a provider's callback (a WeChat URL check is a GET too)."""
    return not request.url.path.startswith(("/api/", "/hooks/"))


def _not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if _is_page(request) and request.method == "GET":
        return Redirect(f"/login?next={request.url.path}", status_code=303)
    return _problem(request, exc)


def _problem(request: Request, exc: HTTPException) -> Response:
    # Litestar's own faults (a plain 500) show no details; a deliberate 503 and the like keep
    # their status, which tells a caller such as SNS to try again.
    if exc.status_code == HTTP_500_INTERNAL_SERVER_ERROR:
        return _server_error(request, exc)
    if _is_page(request) and "text/html" in request.headers.get("accept", ""):
        _ = gettext_for(request_locale(request))
        titles = {403: _("Not allowed"), 404: _("Not found")}
        title = titles.get(exc.status_code, _("Something is not right"))
        return page(
            request, "error.html", status_code=exc.status_code, title=title, message=exc.detail
        )  # a Template is a Response: Litestar renders it
    return Response(
        problem_body(exc),
        status_code=exc.status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=exc.headers,
    )


def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        {"type": "about:blank", "status": 500, "title": "internal error"},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=PROBLEM_MEDIA_TYPE,
    )


@contextlib.asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    await db.start(settings)
    worker: jobs.EmbeddedWorker | None = None
    stop = asyncio.Event()
    scheduler: asyncio.Task[None] | None = None
    if app.state.embedded_jobs:
        worker = jobs.EmbeddedWorker()
        worker.start()
        scheduler = asyncio.create_task(jobs.run_scheduler(stop))
    try:
        yield
    finally:
        stop.set()
        if scheduler is not None:
            await scheduler
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        await audit.flush_reads()
        await db.stop(settings)


def create_app(settings: Settings | None = None, embedded_jobs: bool | None = None) -> Litestar:
    """The ASGI app. Without REDIS_URL the jobs and the scheduler run inside it."""
    settings = settings or get_settings()
    tracing = telemetry.setup(settings)
    session_config = RotatingSessionConfig(
        key=SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=12 * 3600,
        store="sessions",
        exclude=["^/health", "^/ready", "^/static/", "^/api/"],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="dh_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,  # pages render the token; no script reads the cookie
        cookie_samesite="lax",
        exclude=["^/api/"],
    )
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.login_attempts_per_minute),
        check_throttle_handler=_is_login_attempt,
    )
    # Only the sign-in routes carry the rate limit, so other requests never pass through it.
    login_router = Router(path="/", route_handlers=[LoginController, TokenController],
                          middleware=[rate_limit.middleware])
    # OPTIONS is authenticated too: the routes' guards run for it and need a user.
    auth_middleware = DefineMiddleware(
        AuthenticationMiddleware, exclude=PUBLIC_PATHS, exclude_http_methods=[]
    )
    return Litestar(
        route_handlers=[
            login_router,
            *route_handlers(),
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], include_in_schema=False
            ),
        ],
        before_send=[add_security_headers],
        middleware=[
            session_config.middleware,
            auth_middleware,
            AuditMiddleware,
        ],
        csrf_config=csrf,
        template_config=TemplateConfig(
            directory=template_directories(
                ADMIN_TEMPLATES,
                APPOINTMENT_TEMPLATES,
                CAMPAIGN_TEMPLATES,
                *TENANT_TEMPLATES,
                SURVEY_TEMPLATES,
            ),
            engine=JinjaTemplateEngine,
        ),
        openapi_config=OpenAPIConfig(
            title="dealerhub API",
            version="1",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        plugins=[
            ProblemResponses(tuple(path[1:] for path in PUBLIC_PATHS if path.startswith("^/api/"))),
            *([OpenTelemetryPlugin(OpenTelemetryConfig())] if tracing else []),
        ],
        exception_handlers={
            NotAuthorizedException: _not_authorized,
            HTTPException: _problem,
            Exception: _server_error,
        },
        stores=_stores(settings),
        state=State(
            {
                "settings": settings,
                "session_config": session_config,
                "embedded_jobs": (not settings.redis_url)
                if embedded_jobs is None
                else embedded_jobs,
            }
        ),
        lifespan=[_lifespan],
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
