"""The navigation: each component registers its pages, so every page is reachable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dealerhub.platform.auth import CurrentUser


@dataclass(frozen=True)
class NavItem:
    area: str  # "dealer" (portal at /) or "hq" (console at /hq)
    href: str
    label: str  # an English msgid, translated when rendered
    roles: frozenset[str]
    order: int = 100


_items: list[NavItem] = []


def register_nav(
    area: str, href: str, label: str, roles: set[str] | frozenset[str], order: int = 100
) -> None:
    if any(item.href == href for item in _items):
        return
    _items.append(NavItem(area, href, label, frozenset(roles), order))


def nav_for(area: str, role: str) -> list[NavItem]:
    return sorted(
        (item for item in _items if item.area == area and role in item.roles),
        key=lambda item: (item.order, item.href),
    )


@dataclass(frozen=True)
class DashboardTile:
    area: str
    href: str
    label: str
    roles: frozenset[str]
    value: Callable[[CurrentUser], Awaitable[str | int]]
    order: int = 100


_tiles: list[DashboardTile] = []


def register_tile(
    area: str,
    href: str,
    label: str,
    roles: set[str] | frozenset[str],
    value: Callable[[CurrentUser], Awaitable[str | int]],
    order: int = 100,
) -> None:
    """A component's figure on a role's dashboard."""
    _tiles.append(DashboardTile(area, href, label, frozenset(roles), value, order))


async def tiles_for(area: str, user: CurrentUser) -> list[dict[str, str | int]]:
    chosen = sorted(
        (t for t in _tiles if t.area == area and user.role in t.roles), key=lambda t: t.order
    )
    return [{"href": t.href, "label": t.label, "value": await t.value(user)} for t in chosen]
