"""The console's routes: (method, pattern) → handler, patterns relative to ``/-/console``.

A ``{name}`` segment matches one path segment, percent-decoded. Object keys never travel in the
path (they may hold ``/``): they are the query parameter ``key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

if TYPE_CHECKING:
    from tessera.console.request import ConsoleRequest

Handler = Callable[["ConsoleRequest"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    page: bool = False  # HTML (a sign-in redirect without a session) rather than JSON (401)
    public: bool = False  # served without a session (sign-in, static files)

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        if method != self.method and not (method == "HEAD" and self.method == "GET"):
            return None
        wanted = _segments(self.pattern)
        if len(wanted) != len(segments):
            return None
        params: dict[str, str] = {}
        for expected, actual in zip(wanted, segments):
            if expected.startswith("{") and expected.endswith("}"):
                if not actual:
                    return None
                params[expected[1:-1]] = unquote(actual)
            elif expected != actual:
                return None
        return params


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def split(raw_path: str) -> list[str]:
    """The raw (still percent-encoded) path below ``/-/console``, as segments."""
    return _segments(raw_path)


def find(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None | bool:
    """The route and its parameters; False when the path exists with other methods; None when
    nothing serves the path."""
    segments = split(raw_path)
    path_known = False
    for route in routes:
        params = route.match(method, segments)
        if params is not None:
            return route, params
        if route.match(route.method, segments) is not None:
            path_known = True
    return False if path_known else None
