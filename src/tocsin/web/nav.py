"""The navigation registry: each capability adds its pages to the dashboard's menu.

A capability's web module registers its items when imported::

    from tocsin.model import Permission
    from tocsin.web.i18n import N_
    from tocsin.web.nav import NavItem, register

    register(NavItem("watch", N_("Advisories"), "/watch", Permission.INVENTORY_READ, order=20))

The layout shows only the registered items the signed-in user's role may see. Labels are
English message ids, translated when shown (add them to the catalogues, see docs/web.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tocsin.accounts import Account
from tocsin.errors import UsageError
from tocsin.model import Permission
from tocsin.web.i18n import N_


@dataclass(frozen=True)
class NavItem:
    """One entry of the main menu; ``permission`` None means any signed-in user."""

    key: str
    label: str
    url: str
    permission: Permission | None = None
    order: int = 100


class NavRegistry:
    """Navigation items by key; registering a key twice is refused."""

    def __init__(self, items: tuple[NavItem, ...] = ()) -> None:
        self._items: dict[str, NavItem] = {}
        for item in items:
            self.register(item)

    def register(self, item: NavItem) -> NavItem:
        if item.key in self._items:
            raise UsageError(f"navigation item {item.key!r} is already registered")
        self._items[item.key] = item
        return item

    def __iter__(self) -> Iterator[NavItem]:
        return iter(sorted(self._items.values(), key=lambda i: (i.order, i.key)))

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def visible_to(self, account: Account | None) -> list[NavItem]:
        """The items ``account`` may open, in menu order; none for a visitor."""
        if account is None:
            return []
        return [i for i in self if i.permission is None or account.can(i.permission)]


CORE_ITEMS: tuple[NavItem, ...] = (
    NavItem("home", N_("Overview"), "/", Permission.INVENTORY_READ, order=0),
    NavItem("inventory", N_("Inventory"), "/inventory", Permission.INVENTORY_READ, order=10),
    NavItem("users", N_("Users"), "/users", Permission.USERS_ADMIN, order=900),
    NavItem("audit", N_("Audit log"), "/audit", Permission.AUDIT_READ, order=910),
)


def core_registry() -> NavRegistry:
    """A new registry holding the dashboard's own items (tests build their own)."""
    return NavRegistry(CORE_ITEMS)


#: The registry the dashboard uses unless ``create_app`` is given another.
navigation = core_registry()


def register(item: NavItem) -> NavItem:
    """Add ``item`` to the dashboard's menu."""
    return navigation.register(item)
