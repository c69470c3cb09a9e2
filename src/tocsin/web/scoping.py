"""One establishment's item, read for an account: 404 when absent or outside its scope.

An item of another establishment is reported exactly as a missing one, so that ids do not
tell an account what exists outside its scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from fastapi import HTTPException
from sqlalchemy.orm import Session

from tocsin.accounts import Account
from tocsin.errors import NotFoundError


class _OfEstablishment(Protocol):
    @property
    def establishment_id(self) -> int: ...


T = TypeVar("T", bound=_OfEstablishment)


def scoped_item(
    session: Session,
    account: Account,
    load: Callable[[Session, int | None, int], T],
    item_id: int,
    what: str,
) -> T:
    """``load(session, None, item_id)`` when the account's scope holds its establishment."""
    try:
        item = load(session, None, item_id)
    except NotFoundError as exc:
        raise HTTPException(404, f"no such {what}") from exc
    if not account.scope.allows(item.establishment_id):
        raise HTTPException(404, f"no such {what}")
    return item
