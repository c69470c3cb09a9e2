"""Error pages: sign-in redirects, 403, 404, bad requests, all in the user's language."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from tocsin.errors import NotFoundError
from tocsin.web.auth import LoginRequired, PermissionDenied, current_account
from tocsin.web.csrf import CsrfError
from tocsin.web.i18n import N_
from tocsin.web.render import render

# Status code: (title, explanation), English message ids translated on the page.
MESSAGES: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request is not valid. Check the form and try again.")),
    403: (N_("Access denied"), N_("Your role does not give access to this page.")),
    404: (N_("Not found"), N_("This page does not exist, or it is outside your establishments.")),
    405: (N_("Method not allowed"), N_("This address does not accept this kind of request.")),
    429: (N_("Too many requests"), N_("Too many attempts. Wait a few minutes and try again.")),
    500: (N_("Server error"), N_("Something went wrong. The error has been logged.")),
}
CSRF_MESSAGE = N_("The form has expired or did not come from this site. Reload the page and retry.")


async def error_page(request: Request, status: int, message: str | None = None) -> Response:
    """The error page; the layout still shows who is signed in."""
    await run_in_threadpool(current_account, request)
    title, explanation = MESSAGES.get(status, (N_("Error"), N_("The request failed.")))
    context = {"status": status, "title": title, "message": message or explanation}
    return render(request, "error.html", context, status_code=status)


async def _login_required(request: Request, exc: Exception) -> Response:
    target = exc.next_url if isinstance(exc, LoginRequired) else "/login"
    return RedirectResponse(target, status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    return await error_page(request, 403)


async def _csrf(request: Request, exc: Exception) -> Response:
    return await error_page(request, 403, CSRF_MESSAGE)


async def _not_found(request: Request, exc: Exception) -> Response:
    return await error_page(request, 404)


async def _invalid(request: Request, exc: Exception) -> Response:
    return await error_page(request, 400)


async def _http(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    response = await error_page(request, status)
    if isinstance(exc, StarletteHTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PermissionDenied, _forbidden)
    app.add_exception_handler(CsrfError, _csrf)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
