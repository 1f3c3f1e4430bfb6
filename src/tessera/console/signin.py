"""Signing in and out.

The sign-in form is protected against cross-site posts like every other state change: before
there is a session, a random token travels in a ``SameSite=Strict`` cookie and in the form, and
the two must agree (login CSRF).
"""

from __future__ import annotations

import secrets

from aiohttp import web

from tessera.console.request import ConsoleRequest
from tessera.console.routing import Route
from tessera.console.responses import redirect
from tessera.console.sessions import SESSION_COOKIE, SignInRefused

SIGNIN_COOKIE = "tessera_signin"


def _next(target: str | None) -> str:
    """Where to go after signing in: only somewhere inside the console."""
    if target and target.startswith("/-/console/") and not target.startswith("//"):
        return target
    return "/-/console/"


def _cookie(c: ConsoleRequest, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/-/console", httponly=True, samesite="Strict", secure=c.http.secure)


def _form(c: ConsoleRequest, *, error: str | None = None, status: int = 200, access_key_id: str = "",
          next_page: str | None = None) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = c.render("signin.html", status=status, signin_token=token, error=error, access_key_id=access_key_id,
                        next_page=_next(next_page or c.query.get("next")))
    _cookie(c, response, SIGNIN_COOKIE, token)
    return response


async def signin_page(c: ConsoleRequest) -> web.StreamResponse:
    if c.session is not None:
        return redirect(_next(c.query.get("next")))
    return _form(c)


async def signin(c: ConsoleRequest) -> web.StreamResponse:
    form = await c.form()
    key_id, secret = form.get("access_key_id", "").strip(), form.get("secret", "")
    expected = c.http.cookies.get(SIGNIN_COOKIE)
    if not expected or not secrets.compare_digest(expected, form.get("csrf_token", "")):
        return _form(c, error="The sign-in form expired. Please try again.", status=403, access_key_id=key_id,
                     next_page=form.get("next"))
    try:
        token, _ = await c.console.sessions.sign_in(key_id, secret, client=c.http.remote or "")
    except SignInRefused as refused:
        response = _form(c, error=refused.message, status=429 if refused.retry_after_s else 401,
                         access_key_id=key_id, next_page=form.get("next"))
        if refused.retry_after_s:
            response.headers["Retry-After"] = str(refused.retry_after_s)
        return response
    response = redirect(_next(form.get("next")))
    _cookie(c, response, SESSION_COOKIE, token)
    response.del_cookie(SIGNIN_COOKIE, path="/-/console")
    return response


async def signout(c: ConsoleRequest) -> web.StreamResponse:
    assert c.session is not None
    await c.console.sessions.sign_out(c.session)
    response = redirect("/-/console/signin")
    response.del_cookie(SESSION_COOKIE, path="/-/console")
    return response


ROUTES = [
    Route("GET", "/signin", signin_page, page=True, public=True),
    Route("POST", "/signin", signin, page=True, public=True),
    Route("POST", "/signout", signout, page=True),
]
