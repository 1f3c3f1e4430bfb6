"""What console handlers answer: JSON documents, and console errors."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


class ConsoleError(Exception):
    """An error the console tells its user: ``{"error": {"code", "message", ...details}}``."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """``data`` as JSON (dataclasses included)."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json",
                        headers=headers)


def error_body(error: ConsoleError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, **error.details}}


def redirect(location: str, status: int = 303) -> web.Response:
    return web.Response(status=status, headers={"Location": location})
