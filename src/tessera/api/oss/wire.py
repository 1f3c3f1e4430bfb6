"""Small wire-format helpers of the OSS dialect: times, ETags, URL encoding, XML building."""

from __future__ import annotations

import email.utils
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Iterable, Mapping
from urllib.parse import quote

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from tessera.core.errors import EntityTooLarge, InvalidArgument, MalformedXML

Child = "Xml | None"


def iso_time(ms: int) -> str:
    """``2024-01-02T03:04:05.000Z`` — oss2 accepts exactly ``.000`` (docs/wire.md, Dates and XML)."""
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def http_time(ms: int) -> str:
    """``Tue, 02 Jan 2024 03:04:05 GMT`` with a two-digit day (oss2's regex wants it)."""
    return email.utils.formatdate(ms // 1000, usegmt=True)


def parse_http_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # an unparsable date condition is ignored, as HTTP says
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def check_header_text(headers: Mapping[str, str]) -> None:
    """InvalidArgument unless every header value is text: aiohttp keeps bytes that are not UTF-8
    as lone surrogates, which could be neither signed nor stored."""
    for name, value in headers.items():
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidArgument(f"The value of the {name} header is not valid UTF-8.", name=name) from None


def quoted_etag(etag: str) -> str:
    return f'"{etag}"'


def url_encode(text: str) -> str:
    """encoding-type=url: %20 for spaces (the SDKs decode with ``unquote``), '/' kept."""
    return quote(text, safe="/")


class Encoder:
    """Applies encoding-type=url to keys and markers when the client asked for it."""

    def __init__(self, encoding_type: str) -> None:
        self.url = encoding_type == "url"

    def __call__(self, text: str) -> str:
        return url_encode(text) if self.url else text


# --- building XML -----------------------------------------------------------------------

class Xml(str):
    """One serialized XML element. Responses are assembled as text: a page of 1000 listing
    entries costs a few milliseconds this way, several times less than an element tree."""


def _text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def element(tag: str, *children: Child, text: str | int | bool | None = None) -> Xml:
    inner = "" if text is None else _text(text)
    return Xml(f"<{tag}>{inner}{''.join(c for c in children if c is not None)}</{tag}>")


def leaf(tag: str, text: str | int | bool | None) -> Xml:
    return Xml(f"<{tag}>{'' if text is None else _text(text)}</{tag}>")


def elements(tag: str, values: Iterable[str]) -> list[Xml]:
    return [leaf(tag, v) for v in values]


def document(root: Xml) -> bytes:
    """No namespace, ever: a namespaced root breaks both SDKs (docs/wire.md, Dates and XML)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + root).encode("utf-8")


# --- parsing XML ------------------------------------------------------------------------

MAX_XML_BODY = 4 * 1024 * 1024
# Longer references are left to the parser, which refuses any that names no character.
_CHAR_REF = re.compile(rb"&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});")
_STAND_IN_BASE = 0xF0000  # private-use plane: where illegal control characters wait out the parse
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")
_UTF8_BOM = b"\xef\xbb\xbf"


def _shelter_control_refs(body: bytes) -> bytes:
    """v2 escapes control characters in keys as ``&#1;`` etc., which XML 1.0 forbids
    (docs/wire.md, Dates and XML): swap them for private-use stand-ins during the parse."""

    def swap(match: re.Match[bytes]) -> bytes:
        ref = match.group(1)
        code = int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)
        # NUL stays illegal: no key, tag or rule can hold it (nor can PostgreSQL text).
        if 0 < code < 0x20 and code not in (0x9, 0xA, 0xD):
            return chr(_STAND_IN_BASE + code).encode("utf-8")
        return match.group(0)

    return _CHAR_REF.sub(swap, body)


def restore_text(text: str | None) -> str:
    if not text:
        return ""
    if any(ord(c) >= _STAND_IN_BASE for c in text):
        return "".join(chr(ord(c) - _STAND_IN_BASE) if _STAND_IN_BASE <= ord(c) < _STAND_IN_BASE + 0x20 else c
                       for c in text)
    return text


def parse(body: bytes, root: str) -> ET.Element:
    """Parse a request body, refusing DTDs and entities (no expansion bombs)."""
    if len(body) > MAX_XML_BODY:
        raise EntityTooLarge(f"The XML body is larger than {MAX_XML_BODY} bytes.")
    if not body.strip():
        raise MalformedXML("The request body is empty; an XML document was expected.")
    _check_utf8(body)
    try:
        node = SafeET.fromstring(_shelter_control_refs(body), forbid_dtd=True)
    except DefusedXmlException:
        raise MalformedXML("DTDs and entity declarations are not accepted in request XML.") from None
    except ET.ParseError as error:
        raise MalformedXML(f"The XML you provided was not well-formed: {error}.") from None
    if _local(node.tag) != root:
        raise MalformedXML(f"The root element must be <{root}>, not <{_local(node.tag)}>.")
    return node


def _check_utf8(body: bytes) -> None:
    """Request XML is UTF-8, as every SDK sends it: a body in another encoding, or declaring one,
    is refused before the parser sees it (expat would try to decode UTF-16, UTF-7, GBK or a
    name it does not know, and fail with something other than a parse error)."""
    text = body.removeprefix(_UTF8_BOM)
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedXML("Request XML must be encoded in UTF-8.") from None
    declared = _DECLARED_ENCODING.match(text)
    if declared and declared.group(1).decode().lower() != "utf-8":
        raise MalformedXML(f"Request XML must be encoded in UTF-8, not {declared.group(1).decode()!r}.")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def local_name(node: ET.Element) -> str:
    return _local(node.tag)


def children(node: ET.Element, tag: str) -> list[ET.Element]:
    return [c for c in node if _local(c.tag) == tag]


def child_text(node: ET.Element, tag: str) -> str | None:
    found = children(node, tag)
    return restore_text(found[0].text) if found else None
