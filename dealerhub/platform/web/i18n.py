"""zh-CN and English from Babel catalogues (`translations/<locale>/LC_MESSAGES/messages.po`).

The .po files are the source of truth; they are compiled in memory at start-up so there
is no build step.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.connection import ASGIConnection

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
LOCALE_COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


@cache
def translations(locale: str) -> NullTranslations:
    po_path = TRANSLATIONS_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale.replace("-", "_"))
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext_for(locale: str) -> Callable[[str], str]:
    return translations(locale if locale in LOCALES else DEFAULT_LOCALE).gettext


def request_locale(connection: ASGIConnection) -> str:
    """The cookie wins, then the user's saved locale, then Accept-Language."""
    chosen = connection.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    user = connection.scope.get("user")
    if user is not None and getattr(user, "locale", None) in LOCALES:
        return user.locale
    accept = connection.headers.get("accept-language", "").lower()
    if accept.startswith("en"):
        return "en"
    return DEFAULT_LOCALE
