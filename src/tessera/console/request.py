"""What a console handler is given: the HTTP request, storage, the session and its requester."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from tessera.console.responses import ConsoleError
from tessera.console.sessions import Session
from tessera.core.acl import Access, Requester, allowed
from tessera.core.buckets import get_bucket
from tessera.core.models import Bucket
from tessera.core.storage import Storage

if TYPE_CHECKING:
    from tessera.console.app import Console

JSON_BODY_LIMIT = 1024 * 1024
FORM_BODY_LIMIT = 64 * 1024


async def read_form(http: web.Request) -> dict[str, str]:
    """An HTML form's fields. Its length must be declared and at most 64 KiB: aiohttp reads a
    form whole into memory, so an undeclared one could be any size."""
    if http.content_length is None:
        raise ConsoleError(411, "MissingContentLength", "A form must declare its Content-Length.")
    if http.content_length > FORM_BODY_LIMIT:
        raise ConsoleError(413, "BodyTooLarge", "The form is larger than 64 KiB.")
    return {name: value for name, value in (await http.post()).items() if isinstance(value, str)}


@dataclass
class ConsoleRequest:
    http: web.Request
    console: "Console"
    params: dict[str, str]
    session: Session | None
    requester: Requester
    query: dict[str, str] = field(default_factory=dict)

    @property
    def storage(self) -> Storage:
        return self.console.storage

    @property
    def options(self) -> Any:
        return self.console.options

    async def json_body(self) -> dict[str, Any]:
        """The request's JSON object (400 ``InvalidJson`` otherwise; at most 1 MiB)."""
        if (self.http.content_length or 0) > JSON_BODY_LIMIT:
            raise ConsoleError(413, "BodyTooLarge", "The request body is larger than 1 MiB.")
        body = await self.http.content.read(JSON_BODY_LIMIT + 1)
        if len(body) > JSON_BODY_LIMIT:
            raise ConsoleError(413, "BodyTooLarge", "The request body is larger than 1 MiB.")
        try:
            data = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError:
            raise ConsoleError(400, "InvalidJson", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ConsoleError(400, "InvalidJson", "The request body must be a JSON object.")
        return data

    async def form(self) -> dict[str, str]:
        """An HTML form's fields (at most 64 KiB)."""
        return await read_form(self.http)

    def render(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        """A page from ``template``, HTML-escaped throughout."""
        values = {"session": self.session, "csrf_token": self.session.csrf_token if self.session else "",
                  "bucket": self.params.get("bucket"), "nav": "", **context}
        html = self.console.templates.get_template(template).render(**values)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    async def require_bucket(self, name: str, access: Access) -> Bucket:
        """The bucket, if the session may have ``access`` to it (the OSS dialect's policy)."""
        bucket = await get_bucket(self.storage, name)  # NoSuchBucket when there is none
        if not allowed(self.requester, bucket.owner, access, [bucket.acl]):
            raise ConsoleError(403, "AccessDenied", f"The signed-in key may not do this to bucket {name}.")
        return bucket
