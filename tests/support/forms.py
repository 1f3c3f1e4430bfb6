"""PostObject forms built the way OSS documents them: a base64 JSON policy signed with V1
(HMAC-SHA1, base64) or V4 (the V4 signing key, HMAC-SHA256, hex), fields in order, ``file`` last."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.support.raw import RawResponse
from tests.support.server import TesseraServer

REGION = "cn-hangzhou"


def policy(conditions: list[Any], *, expires_in: float = 600, expiration: str | None = None) -> str:
    when = expiration or (datetime.now(timezone.utc) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return base64.b64encode(json.dumps({"expiration": when, "conditions": conditions}).encode()).decode()


def v1_fields(server: TesseraServer, encoded_policy: str, *, secret: str | None = None) -> dict[str, str]:
    digest = hmac.new((secret or server.access_key_secret).encode(), encoded_policy.encode(), hashlib.sha1).digest()
    return {"OSSAccessKeyId": server.access_key_id, "policy": encoded_policy,
            "Signature": base64.b64encode(digest).decode()}


def v4_credential(server: TesseraServer, now: datetime | None = None, region: str = REGION) -> tuple[str, str]:
    """(x-oss-credential, x-oss-date) for a form signed at ``now``."""
    now = now or datetime.now(timezone.utc)
    return f"{server.access_key_id}/{now:%Y%m%d}/{region}/oss/aliyun_v4_request", f"{now:%Y%m%dT%H%M%SZ}"


def v4_signature(secret: str, credential: str, encoded_policy: str) -> str:
    _, date, region, product, terminator = credential.split("/")
    key = ("aliyun_v4" + secret).encode()
    for part in (date, region, product, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, encoded_policy.encode(), hashlib.sha256).hexdigest()


def v4_form(server: TesseraServer, conditions: list[Any], *, now: datetime | None = None, region: str = REGION,
            secret: str | None = None, **policy_options: Any) -> dict[str, str]:
    """The V4 fields, with the policy naming them as OSS's examples do."""
    credential, date = v4_credential(server, now, region)
    encoded = policy([*conditions, {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
                      {"x-oss-credential": credential}, {"x-oss-date": date}], **policy_options)
    return {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": credential, "x-oss-date": date,
            "policy": encoded,
            "x-oss-signature": v4_signature(secret or server.access_key_secret, credential, encoded)}


def encode(fields: dict[str, str] | list[tuple[str, str]], file: bytes | None, *, filename: str = "upload.bin",
           file_type: str = "application/octet-stream", boundary: str | None = None) -> tuple[bytes, str]:
    """The multipart/form-data body and its Content-Type."""
    boundary = boundary or "----tessera" + secrets.token_hex(8)
    items = fields.items() if isinstance(fields, dict) else fields
    body = b""
    for name, value in items:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode()
        body += value.encode() + b"\r\n"
    if file is not None:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                 f"Content-Type: {file_type}\r\n\r\n").encode() + file + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post(server: TesseraServer, bucket: str, fields: dict[str, str] | list[tuple[str, str]], file: bytes | None,
         *, headers: dict[str, str] | None = None, **options: Any) -> RawResponse:
    body, content_type = encode(fields, file, **options)
    return post_body(server, bucket, body, content_type, headers=headers)


def post_body(server: TesseraServer, bucket: str, body: bytes, content_type: str, *,
              headers: dict[str, str] | None = None) -> RawResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("POST", f"/{bucket}/", body=body,
                           headers={"Content-Type": content_type, **(headers or {})})
        response = connection.getresponse()
        return RawResponse(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()
