"""Accounts, for administrators: list, create, change role, scope and status.

Every change goes through :mod:`tocsin.accounts`, which writes the audit log with the
administrator as actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Form
from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from tocsin import accounts
from tocsin.accounts import Account
from tocsin.accounts.service import MIN_PASSWORD_LENGTH
from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Permission, Role
from tocsin.store.inventory import list_establishments
from tocsin.web.auth import require
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.i18n import LANGUAGES, N_
from tocsin.web.render import flash, render

router = page_router()

Admin = Annotated[Account, Depends(require(Permission.USERS_ADMIN))]
TextField = Annotated[str, Form(max_length=1024)]
ListField = Annotated[list[str] | None, Form()]


@dataclass(frozen=True)
class FormError:
    """A message id to show above the form, with its placeholders."""

    message: str
    params: dict[str, object] = field(default_factory=dict)


def _render_users(
    request: Request, account: Account, error: FormError | None = None, status: int = 200
) -> Response:
    with web_context(request).database.session() as session:
        users = accounts.list_accounts(session)
        establishments = list_establishments(session, account.scope)
    context = {
        "active": "users",
        "users": users,
        "establishments": establishments,
        "roles": list(Role),
        "languages": LANGUAGES,
        "error": error,
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "users.html", context, status_code=status)


@router.get("/users")
def users_page(request: Request, account: Admin) -> Response:
    return _render_users(request, account)


def _role(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


def _creation_error(
    request: Request, username: str, role: Role | None, password: str, chosen: Sequence[str]
) -> FormError | None:
    if not username or len(username) > 128:
        return FormError(N_("A username has 1 to 128 characters."))
    if role is None:
        return FormError(N_("Choose a role."))
    if len(password) < MIN_PASSWORD_LENGTH:
        return FormError(
            N_("The password must have at least %(count)s characters."),
            {"count": MIN_PASSWORD_LENGTH},
        )
    with web_context(request).database.session() as session:
        if any(u.username == username for u in accounts.list_accounts(session)):
            return FormError(N_("This username is already taken."))
        known = {e.slug for e in list_establishments(session)}
    if not set(chosen) <= known:
        return FormError(N_("Unknown establishment."))
    return None


@router.post("/users")
def create_user(
    request: Request,
    account: Admin,
    username: TextField = "",
    role: TextField = "",
    password: TextField = "",
    language: TextField = "",
    establishments: ListField = None,
    all_establishments: TextField = "",
) -> Response:
    username = username.strip()
    chosen = sorted(set(establishments or ()))
    parsed = _role(role)
    error = _creation_error(request, username, parsed, password, chosen)
    if error is not None or parsed is None:
        return _render_users(request, account, error, 400)
    try:
        with web_context(request).database.session() as session:
            accounts.create_user(
                session,
                username,
                password,
                parsed,
                establishments=chosen,
                all_establishments=bool(all_establishments),
                language=language if language in LANGUAGES else None,
                actor=account.username,
            )
    except UsageError:
        return _render_users(request, account, FormError(N_("The account was not saved.")), 400)
    flash(request, N_("Account created."))
    return RedirectResponse("/users", status_code=303)


def _update_error(
    account: Account, username: str, role: Role | None, active: bool
) -> FormError | None:
    if role is None:
        return FormError(N_("Choose a role."))
    if username == account.username and (role is not Role.ADMIN or not active):
        return FormError(N_("You cannot demote or deactivate your own account."))
    return None


def _target(request: Request, username: str) -> Account:
    with web_context(request).database.session() as session:
        for user in accounts.list_accounts(session):
            if user.username == username:
                return user
    raise NotFoundError(f"no user {username!r}")


@router.post("/users/{username}")
def update_user(
    request: Request,
    username: str,
    account: Admin,
    role: TextField = "",
    establishments: ListField = None,
    all_establishments: TextField = "",
    active: TextField = "",
) -> Response:
    target = _target(request, username)
    parsed = _role(role)
    error = _update_error(account, username, parsed, bool(active))
    if error is not None or parsed is None:
        return _render_users(request, account, error, 400)
    chosen = tuple(sorted(set(establishments or ())))
    everywhere = bool(all_establishments) or parsed is Role.ADMIN
    try:
        with web_context(request).database.session() as session:
            accounts.update_user(
                session,
                username,
                role=parsed,
                # Only what changed is passed, so the audit log records only real changes.
                establishments=chosen if chosen != target.establishments else None,
                all_establishments=everywhere if everywhere != target.all_establishments else None,
                active=bool(active),
                actor=account.username,
            )
    except UsageError:
        return _render_users(request, account, FormError(N_("The account was not saved.")), 400)
    flash(request, N_("Account updated."))
    return RedirectResponse("/users", status_code=303)
