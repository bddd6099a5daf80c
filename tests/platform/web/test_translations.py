"""Every string a page shows through `_()` has a zh-CN translation."""

from __future__ import annotations

import re
from pathlib import Path

from dealerhub.platform.web.i18n import translations

PACKAGE = Path(__file__).resolve().parents[3] / "dealerhub"
TEMPLATE_CALL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
NAV_LABEL = re.compile(
    r"""register_(?:nav|tile)\([^)]*?["'](?:dealer|hq)["']\s*,\s*["'][^"']*["']\s*,\s*["']([^"']+)["']""",
    re.S,
)


def used_msgids() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.html"):
        found |= {m.group(2) for m in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8"))}
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= {m.group(1) for m in NAV_LABEL.finditer(text)}
        found |= {m.group(2) for m in TEMPLATE_CALL.finditer(text)}
    return {msgid for msgid in found if "{" not in msgid}


def test_every_msgid_has_a_chinese_translation() -> None:
    zh = translations("zh-CN")
    missing = sorted(
        msgid
        for msgid in used_msgids()
        if zh.gettext(msgid) == msgid and re.search(r"[A-Za-z]", msgid)
    )
    assert not missing, "add to translations/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(missing)


def test_the_catalogue_is_used() -> None:
    assert translations("zh-CN").gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"
