"""Authorization: what the sender of a routed, authenticated request may do — in one place.

Runs after routing, so the operation is known, and before its handler. Root keys may do
anything; a bucket's owner anything to it; everyone else, anonymous requests included, only
what the ACLs grant everyone (docs/compatibility.md, Access control). The policy itself is
``tessera.core.acl``; this module names the access each OSS operation needs and fetches the
facts.
"""

from __future__ import annotations

from tessera.api.oss.context import OssRequest
from tessera.api.oss.objects import parse_copy_source
from tessera.core import object_acl
from tessera.core.acl import Access, Requester, allowed
from tessera.core.errors import AccessDenied

# Operations on one key, by the access they need.
OBJECT_ACCESS: dict[str, Access] = {
    "GetObject": Access.READ,
    "HeadObject": Access.READ,
    "GetObjectMeta": Access.READ,
    "GetSymlink": Access.READ,
    "PutObject": Access.WRITE,
    "CopyObject": Access.WRITE,
    "AppendObject": Access.WRITE,
    "PutSymlink": Access.WRITE,
    "DeleteObject": Access.WRITE,
    "InitiateMultipartUpload": Access.WRITE,
    "UploadPart": Access.WRITE,
    "UploadPartCopy": Access.WRITE,
    "CompleteMultipartUpload": Access.WRITE,
    "AbortMultipartUpload": Access.WRITE,
    "ListParts": Access.WRITE,
}
# Operations on the bucket as a whole that an ACL can grant; every other one is the owner's.
BUCKET_ACCESS: dict[str, Access] = {
    "ListObjects": Access.LIST,
    "ListObjectsV2": Access.LIST,
    "ListMultipartUploads": Access.LIST,
    "DeleteMultipleObjects": Access.WRITE,
}
# Reads that serve a symlink's target: the target's ACL must allow them too.
THROUGH_SYMLINK = frozenset({"GetObject", "HeadObject"})
# Writes that also read another object: x-oss-copy-source must be readable.
COPIES = frozenset({"CopyObject", "UploadPartCopy"})
# Requests that need a signature whatever the ACLs say, but no bucket of the signer's own:
# ListBuckets (filtered to the signer's buckets), PutBucket (creates one), and the refusals of
# what Tessera does not serve (they touch nothing).
SIGNED_ONLY = frozenset({"ListBuckets", "PutBucket", "Unknown"})


def deny(requester: Requester) -> AccessDenied:
    if requester.anonymous:
        return AccessDenied("Anonymous access is forbidden for this operation.")
    return AccessDenied("You have no right to access this resource: it is not your bucket, and its ACL "
                        "does not grant this to everyone.")


async def authorize(req: OssRequest, operation: str) -> None:
    """Raise AccessDenied unless ``req``'s sender may perform ``operation``; NoSuchBucket when
    the bucket it names does not exist (OSS answers that before access)."""
    requester = req.requester
    if requester.is_root:
        return
    if operation in SIGNED_ONLY or not req.bucket:
        if requester.anonymous:
            raise deny(requester)
        return
    if req.key and operation in OBJECT_ACCESS:
        access = OBJECT_ACCESS[operation]
        grants = await object_acl.grants(req.storage, req.bucket, req.key,
                                         through_symlink=operation in THROUGH_SYMLINK)
    else:
        access = BUCKET_ACCESS.get(operation, Access.OWNER)
        grants = await object_acl.grants(req.storage, req.bucket)
    if not allowed(requester, grants.owner, access, grants.acls):
        raise deny(requester)
    if operation in COPIES:
        await _authorize_copy_source(req, requester)


async def _authorize_copy_source(req: OssRequest, requester: Requester) -> None:
    source_bucket, source_key = parse_copy_source(req.header("x-oss-copy-source") or "")
    grants = await object_acl.grants(req.storage, source_bucket, source_key, through_symlink=True)
    if not allowed(requester, grants.owner, Access.READ, grants.acls):
        raise deny(requester)
