"""Who may read or write one key, for the console: the OSS dialect's policy, object ACLs included.

A bucket-level check (``ConsoleRequest.require_bucket``) is not enough for one object: a
``public-read`` object in a private bucket may be read by anyone, a ``private`` object in a
public bucket by its owner only (docs/compatibility.md, Access control). The facts come from
``core.object_acl.grants`` and the decision from ``core.acl.allowed``, as for OSS requests.
"""

from __future__ import annotations

from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError
from tessera.core import object_acl
from tessera.core.acl import Access, allowed
from tessera.core.names import check_key


def key_param(c: ConsoleRequest) -> str:
    """The ``key`` query parameter, checked as any object key (400 when empty or too long)."""
    key = c.query.get("key", "")
    check_key(key)
    return key


async def require_object(c: ConsoleRequest, bucket: str, key: str, access: Access, *,
                         through_symlink: bool = False) -> None:
    """Raise 403 unless the session may have ``access`` to ``key`` (404 when there is no bucket).
    A key that does not exist yet has its bucket's ACL."""
    grants = await object_acl.grants(c.storage, bucket, key, through_symlink=through_symlink)
    if not allowed(c.requester, grants.owner, access, grants.acls):
        raise ConsoleError(403, "AccessDenied", f"The signed-in key may not do this to {key!r} in bucket {bucket}.",
                           key=key)
