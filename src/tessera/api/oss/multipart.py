"""The seven multipart operations, as OSS speaks them (docs/wire.md, Multipart)."""

from __future__ import annotations

import re

from aiohttp import web

from tessera.api.numbers import decimal
from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response, xml_response
from tessera.api.oss.objects import parse_copy_source, read_conditions
from tessera.api.oss.wire import element, leaf
from tessera.core import multipart
from tessera.core.errors import InvalidArgument, MalformedXML, NoSuchUpload
from tessera.core.models import MAX_PART_NUMBER, PartChoice


def _part_number(req: OssRequest) -> int:
    raw = req.target.get("partNumber")
    number = decimal(raw)
    if number is None:
        raise InvalidArgument(
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive.",
            name="partNumber", value=raw,
        )
    return number


def _upload_id(req: OssRequest) -> str:
    upload_id = req.target.get("uploadId")
    if not upload_id:
        raise NoSuchUpload(UploadId="")
    return upload_id


async def initiate(req: OssRequest) -> web.Response:
    upload = await multipart.initiate_upload(
        req.storage, req.bucket, req.key, req.object_attributes(), initiator=req.access_key_id
    )
    encode = req.encode
    root = element(
        "InitiateMultipartUploadResult",
        leaf("Bucket", upload.bucket),
        leaf("Key", encode(upload.key)),
        leaf("UploadId", upload.upload_id),
        leaf("EncodingType", "url") if encode.url else None,
    )
    return xml_response(root)


async def upload_part(req: OssRequest) -> web.Response:
    part = await multipart.upload_part(
        req.storage, req.bucket, req.key, _upload_id(req), _part_number(req), req.body(),
        size=req.content_length(), content_md5=req.content_md5(),
    )
    return empty_response(headers={"ETag": wire.quoted_etag(part.etag), "x-oss-hash-crc64ecma": part.crc64})


_COPY_RANGE = re.compile(r"bytes=([0-9]+)-([0-9]*)")


def _copy_range(raw: str) -> tuple[int, int | None]:
    """``x-oss-copy-source-range: bytes=first-last`` (last may be left out: to the end)."""
    match = _COPY_RANGE.fullmatch(raw.strip())
    if match is not None:
        first, last = decimal(match.group(1)), decimal(match.group(2))
        if first is not None and (last is not None or not match.group(2)):
            return first, last
    raise InvalidArgument("x-oss-copy-source-range must look like bytes=first-last.",
                          name="x-oss-copy-source-range", value=raw)


async def upload_part_copy(req: OssRequest) -> web.Response:
    source_bucket, source_key = parse_copy_source(req.header("x-oss-copy-source") or "")
    raw_range = req.header("x-oss-copy-source-range")
    source_range = _copy_range(raw_range) if raw_range else None
    part = await multipart.upload_part_copy(
        req.storage, req.bucket, req.key, _upload_id(req), _part_number(req),
        source_bucket=source_bucket, source_key=source_key, source_range=source_range,
        source_conditions=read_conditions(req, "x-oss-copy-source-"),
    )
    etag = wire.quoted_etag(part.etag)
    root = element("CopyPartResult", leaf("LastModified", wire.iso_time(part.last_modified_ms)), leaf("ETag", etag))
    return xml_response(root, headers={"ETag": etag, "x-oss-hash-crc64ecma": part.crc64})


def _parse_choices(body: bytes) -> list[PartChoice]:
    doc = wire.parse(body, "CompleteMultipartUpload")
    choices = []
    for part in wire.children(doc, "Part"):
        number, etag = decimal((wire.child_text(part, "PartNumber") or "").strip()), wire.child_text(part, "ETag")
        if number is None or etag is None:
            raise MalformedXML("Each <Part> needs a numeric <PartNumber> and an <ETag>.")
        choices.append(PartChoice(number, etag))
    if not choices:
        raise MalformedXML("The CompleteMultipartUpload request must list at least one part.")
    return choices


async def complete(req: OssRequest) -> web.Response:
    upload_id = _upload_id(req)
    complete_all = (req.header("x-oss-complete-all") or "").strip().lower() == "yes"
    body = await req.read_small_body()
    # Validation order: NoSuchUpload, complete-all vs body, MalformedXML, then the parts
    # (docs/wire.md, Multipart).
    await multipart.check_upload(req.storage, req.bucket, req.key, upload_id)
    if complete_all and body.strip():
        raise InvalidArgument("The request body must be empty when x-oss-complete-all is yes.",
                              name="x-oss-complete-all", value="yes")
    choices = None if complete_all else _parse_choices(body)
    # x-oss-object-acl at Complete overrides the one given at initiation (oss2 forwards it here).
    acl = req.object_acl_header() if req.header("x-oss-object-acl") is not None else None
    result = await multipart.complete_upload(
        req.storage, req.bucket, req.key, upload_id, choices,
        forbid_overwrite=req.flag("x-oss-forbid-overwrite"), acl=acl,
    )
    encode = req.encode
    etag = wire.quoted_etag(result.etag)
    root = element(
        "CompleteMultipartUploadResult",
        leaf("EncodingType", "url") if encode.url else None,
        leaf("Location", f"http://{req.http.host}/{result.bucket}/{encode(result.key)}"),
        leaf("Bucket", result.bucket),
        leaf("Key", encode(result.key)),
        leaf("ETag", etag),
    )
    # oss2 reads the ETag header here, v2 the XML (docs/wire.md, ETags).
    return xml_response(root, headers={"ETag": etag, "x-oss-hash-crc64ecma": result.crc64})


async def abort(req: OssRequest) -> web.Response:
    await multipart.abort_upload(req.storage, req.bucket, req.key, _upload_id(req))
    return empty_response(status=204)


async def list_uploads(req: OssRequest) -> web.Response:
    prefix, delimiter = req.target.get("prefix"), req.target.get("delimiter")
    key_marker, upload_id_marker = req.target.get("key-marker"), req.target.get("upload-id-marker")
    max_uploads = req.int_param("max-uploads", default=1000, low=1, high=1000)
    page = await multipart.list_uploads(
        req.storage, req.bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
        upload_id_marker=upload_id_marker, max_uploads=max_uploads,
    )
    encode = req.encode
    # oss2 requires NextKeyMarker and NextUploadIdMarker on every page (docs/wire.md, Multipart).
    root = element(
        "ListMultipartUploadsResult",
        leaf("Bucket", req.bucket),
        leaf("EncodingType", "url") if encode.url else None,
        leaf("KeyMarker", encode(key_marker)),
        leaf("UploadIdMarker", upload_id_marker),
        leaf("NextKeyMarker", encode(page.next_marker)),
        leaf("NextUploadIdMarker", page.next_upload_id_marker),
        leaf("Delimiter", encode(delimiter)),
        leaf("Prefix", encode(prefix)),
        leaf("MaxUploads", max_uploads),
        leaf("IsTruncated", page.is_truncated),
        *(
            element(
                "Upload",
                leaf("Key", encode(u.key)),
                leaf("UploadId", u.upload_id),
                leaf("StorageClass", u.attributes.storage_class),
                leaf("Initiated", wire.iso_time(u.initiated_ms)),
            )
            for u in page.entries
        ),
        *(element("CommonPrefixes", leaf("Prefix", encode(p))) for p in page.common_prefixes),
    )
    return xml_response(root)


async def list_parts(req: OssRequest) -> web.Response:
    marker = req.int_param("part-number-marker", default=0, low=0, high=MAX_PART_NUMBER)
    max_parts = req.int_param("max-parts", default=1000, low=1, high=1000)
    page = await multipart.list_parts(req.storage, req.bucket, req.key, _upload_id(req),
                                      part_number_marker=marker, max_parts=max_parts)
    encode = req.encode
    next_marker = page.parts[-1].part_number if page.parts else marker
    root = element(
        "ListPartsResult",
        leaf("Bucket", req.bucket),
        leaf("EncodingType", "url") if encode.url else None,
        leaf("Key", encode(page.upload.key)),
        leaf("UploadId", page.upload.upload_id),
        leaf("StorageClass", page.upload.attributes.storage_class),
        leaf("PartNumberMarker", marker),
        leaf("NextPartNumberMarker", next_marker),
        leaf("MaxParts", max_parts),
        leaf("IsTruncated", page.is_truncated),
        *(
            element(
                "Part",
                leaf("PartNumber", p.part_number),
                leaf("LastModified", wire.iso_time(p.last_modified_ms)),
                leaf("ETag", wire.quoted_etag(p.etag)),
                leaf("HashCrc64ecma", p.crc64),
                leaf("Size", p.size),
            )
            for p in page.parts
        ),
    )
    return xml_response(root)
