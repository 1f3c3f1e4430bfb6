"""The console's front door: every request under ``/-/console`` goes through ``Console.handle``.

static file? → route → session (or a sign-in redirect / 401) → CSRF check of state changes →
handler → console error page or JSON error → security headers. Handlers live one family per
module, each listing its ``ROUTES``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources
from typing import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from tessera.console import buckets, lifecycle, objects, part_management, security, signin, uploads, usage
from tessera.console.errors import classify, expected
from tessera.console.request import ConsoleRequest, read_form
from tessera.console.responses import ConsoleError, error_body, json_response, redirect
from tessera.console.routing import Route, find
from tessera.console.sessions import SESSION_COOKIE, SessionPolicy, Sessions
from tessera.console.templates import environment
from tessera.core.acl import Requester
from tessera.core.lifecycle.schedule import LifecycleSchedule
from tessera.core.storage import Storage

log = logging.getLogger("tessera.console")

PREFIX = "/-/console"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}

# Every family of console pages and endpoints; each module lists its ROUTES.
FAMILIES = (signin, buckets, objects, uploads, lifecycle, usage, part_management)

RequesterFor = Callable[[str], Awaitable[Requester]]


@dataclass(frozen=True)
class ConsoleOptions:
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    lifecycle_schedule: LifecycleSchedule | None = None  # None: runs only when asked for


class Console:
    def __init__(self, storage: Storage, options: ConsoleOptions, requester_for: RequesterFor) -> None:
        self.storage = storage
        self.options = options
        self.requester_for = requester_for
        self.sessions = Sessions(storage, options.sessions)
        self.templates = environment()
        self.routes: list[Route] = [route for family in FAMILIES for route in family.ROUTES]

    async def handle(self, http: web.Request) -> web.StreamResponse:
        raw = http.raw_path.split("?", 1)[0]
        sub = raw[len(PREFIX):] if raw.startswith(PREFIX) else ""
        if sub == "":
            response: web.StreamResponse = redirect(PREFIX + "/", 302)
        elif sub.startswith("/static/"):
            response = self._static(sub.removeprefix("/static/"))
            security.decorate(response, cacheable=True)
            return response
        else:
            response = await self._dispatch(http, sub)
        security.decorate(response)
        return response

    async def _dispatch(self, http: web.Request, sub: str) -> web.StreamResponse:
        found = find(self.routes, http.method, sub)
        wants_html = "text/html" in http.headers.get("Accept", "")
        if not isinstance(found, tuple):
            error = (ConsoleError(405, "MethodNotAllowed", f"{http.method} is not served here.") if found is False
                     else ConsoleError(404, "NotFound", "There is no such console page."))
            return self._error(http, error, page=wants_html)
        route, params = found
        try:
            session = await self.sessions.find(http.cookies.get(SESSION_COOKIE))
            if session is None and not route.public:
                if route.page:
                    return redirect(f"{PREFIX}/signin?next={quote(http.raw_path, safe='')}")
                raise ConsoleError(401, "NotSignedIn", "Sign in to the console first.")
            if session is not None and not route.public and http.method not in security.SAFE_METHODS:
                sent = http.headers.get(security.CSRF_HEADER)
                if sent is None and http.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                    sent = (await read_form(http)).get(security.CSRF_FIELD)
                security.check_csrf(session.csrf_token, sent)
            requester = await self.requester_for(session.access_key_id) if session else Requester(None)
            request = ConsoleRequest(http, self, params, session, requester, dict(http.query))
            return await route.handler(request)
        except Exception as error:
            if not expected(error):
                log.exception("console: unexpected error in %s %s", http.method, sub)
            return self._error(http, classify(error), page=route.page)

    def _error(self, http: web.Request, error: ConsoleError, *, page: bool) -> web.Response:
        if page:
            html = self.templates.get_template("error.html").render(
                error=error, session=None, csrf_token="", bucket=None, nav="")
            return web.Response(text=html, status=error.status, content_type="text/html", charset="utf-8")
        return json_response(error_body(error), status=error.status)

    def _static(self, name: str) -> web.Response:
        suffix = name[name.rfind("."):] if "." in name else ""
        folder = resources.files("tessera.console") / "static"
        if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES or not (folder / name).is_file():
            return web.Response(status=404, text="Not found\n")
        return web.Response(body=(folder / name).read_bytes(), content_type=STATIC_TYPES[suffix])


def is_browser_visit(http: web.Request) -> bool:
    """A person opening the server's address in a browser — not an SDK listing buckets: GET /,
    asking for HTML, with no signature of any kind (docs/console.md, The front door)."""
    if http.method != "GET" or http.raw_path != "/" or "Authorization" in http.headers:
        return False
    return "text/html" in http.headers.get("Accept", "")

