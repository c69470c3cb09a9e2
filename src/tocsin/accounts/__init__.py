"""User accounts: argon2 passwords, roles, establishment scope, API tokens, login limits."""

from tocsin.accounts.service import (
    Account,
    authenticate,
    authenticate_token,
    create_token,
    create_user,
    get_account,
    list_accounts,
    set_password,
    update_user,
)

__all__ = [
    "Account",
    "authenticate",
    "authenticate_token",
    "create_token",
    "create_user",
    "get_account",
    "list_accounts",
    "set_password",
    "update_user",
]
