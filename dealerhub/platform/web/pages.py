"""Rendering a page in the shell: the user, the locale, the navigation and `_()`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.enums import MediaType
from litestar.response import Template

from dealerhub.platform.auth import CurrentUser
from dealerhub.platform.web.i18n import LOCALES, gettext_for, request_locale
from dealerhub.platform.web.nav import nav_for

SHELL_TEMPLATES = Path(__file__).parent / "templates"
_component_dirs: list[Path] = []


def template_directories(*extra: Path) -> list[Path]:
    """The shell's templates first, then every component's `templates/`."""
    for directory in extra:
        if directory not in _component_dirs:
            _component_dirs.append(directory)
    return [SHELL_TEMPLATES, *_component_dirs]


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    locale = request_locale(request)
    user: CurrentUser | None = request.scope.get("user")
    area = "hq" if request.url.path.startswith("/hq") else "dealer"
    return Template(
        template_name=template,
        status_code=status_code,
        media_type=MediaType.HTML,
        context={
            "_": gettext_for(locale),
            "locale": locale,
            "locales": LOCALES,
            "user": user,
            "area": area,
            "nav": nav_for(area, user.role) if user else [],
            "path": request.url.path,
            **context,
        },
    )
