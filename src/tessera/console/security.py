"""Headers every console answer carries, and the CSRF check of every state change.

No inline scripts or styles are allowed (CSP), the console cannot be framed, and nothing it
serves is cached or sniffed (docs/console.md, Security).
"""

from __future__ import annotations

import hmac

from aiohttp import web

from tessera.console.responses import ConsoleError

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def decorate(response: web.StreamResponse, *, cacheable: bool = False) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-cache" if cacheable else "no-store")


def check_csrf(expected: str, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise ConsoleError(403, "InvalidCsrfToken",
                           "This request did not carry the page's security token. Reload the page and try again.")
