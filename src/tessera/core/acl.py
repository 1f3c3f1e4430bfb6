"""Who may do what: bucket owners, root keys, and what an ACL grants everyone else.

Pure policy (docs/compatibility.md, Access control): the API layer names the access an
operation needs and gathers the facts (the bucket's owner and ACL, the object's ACL); this
module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tessera.core.errors import InvalidArgument
from tessera.core.models import BUCKET_ACLS, OBJECT_ACLS


class Access(Enum):
    """What an operation does to a bucket or an object, as ACLs see it."""

    READ = "read"  # an object's data or metadata (GetObject, HeadObject, GetObjectMeta, GetSymlink)
    LIST = "list"  # the bucket's listings (ListObjects, ListObjectsV2, ListMultipartUploads)
    WRITE = "write"  # create, replace or delete objects (PutObject, multipart, DeleteObject, ...)
    OWNER = "owner"  # the bucket's configuration and ACLs: its owner (and root keys) only


@dataclass(frozen=True)
class Requester:
    """Who sent a request: an access key, or nobody (an unsigned request)."""

    access_key_id: str | None
    is_root: bool = False

    @property
    def anonymous(self) -> bool:
        return self.access_key_id is None


ANONYMOUS = Requester(None)


def check_object_acl(acl: str, *, name: str = "x-oss-object-acl") -> str:
    if acl not in OBJECT_ACLS:
        raise InvalidArgument("no such object access control exists", name=name, value=acl)
    return acl


def effective_acl(bucket_acl: str, object_acl: str | None) -> str:
    """The ACL that applies to an object: its own, or its bucket's when it has ``default`` (or
    does not exist yet)."""
    if object_acl is None or object_acl == "default":
        return bucket_acl
    return object_acl


def grants_everyone(acl: str, access: Access) -> bool:
    """What ``acl`` lets anyone at all do (anonymous requests, and keys that do not own the bucket)."""
    if acl not in BUCKET_ACLS or access is Access.OWNER:
        return False
    if access is Access.WRITE:
        return acl == "public-read-write"
    return acl in ("public-read", "public-read-write")


def is_owner(requester: Requester, bucket_owner: str) -> bool:
    """Root keys administer every bucket; any other key only its own."""
    return requester.is_root or (requester.access_key_id is not None and requester.access_key_id == bucket_owner)


def allowed(requester: Requester, bucket_owner: str, access: Access, acls: list[str]) -> bool:
    """May ``requester`` have ``access`` where every ACL of ``acls`` applies (an object's
    effective ACL; for a read through a symlink, the link's and its target's)?"""
    if is_owner(requester, bucket_owner):
        return True
    return bool(acls) and all(grants_everyone(acl, access) for acl in acls)
