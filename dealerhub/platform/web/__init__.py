"""The page shell shared by the dealer portal (`/`) and the OEM console (`/hq`):
templates, static assets, translations and the navigation every component adds to."""

from dealerhub.platform.web.i18n import LOCALES, gettext_for, request_locale
from dealerhub.platform.web.nav import NavItem, nav_for, register_nav, register_tile, tiles_for
from dealerhub.platform.web.pages import page, template_directories
from dealerhub.platform.web.problems import found

__all__ = [
    "LOCALES",
    "NavItem",
    "found",
    "gettext_for",
    "nav_for",
    "page",
    "register_nav",
    "register_tile",
    "request_locale",
    "template_directories",
    "tiles_for",
]
