"""PutObjectTagging, GetObjectTagging, DeleteObjectTagging (``?tagging`` on an object)."""

from __future__ import annotations

from aiohttp import web

from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response, xml_response
from tessera.api.oss.wire import child_text, children, element, leaf
from tessera.core import objects
from tessera.core.errors import MalformedXML
from tessera.core.tags import check_tags


async def put_object_tagging(req: OssRequest) -> web.Response:
    root = wire.parse(await req.read_small_body(), "Tagging")
    tag_sets = children(root, "TagSet")
    if len(tag_sets) != 1:
        raise MalformedXML("<Tagging> must hold exactly one <TagSet>.")
    pairs = []
    for tag in children(tag_sets[0], "Tag"):
        key = child_text(tag, "Key")
        if key is None:
            raise MalformedXML("Each <Tag> needs a <Key>.")
        pairs.append((key, child_text(tag, "Value") or ""))
    await objects.set_object_tags(req.storage, req.bucket, req.key, check_tags(pairs))
    return empty_response()


async def get_object_tagging(req: OssRequest) -> web.Response:
    tags = (await objects.object_info(req.storage, req.bucket, req.key)).attributes.tags
    return xml_response(element("Tagging", element(
        "TagSet", *(element("Tag", leaf("Key", k), leaf("Value", v)) for k, v in tags.items()))))


async def delete_object_tagging(req: OssRequest) -> web.Response:
    await objects.set_object_tags(req.storage, req.bucket, req.key, {})
    return empty_response(status=204)
