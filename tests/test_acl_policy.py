"""The access policy on its own: owners, root keys, and what each ACL grants everyone else."""

from __future__ import annotations

import pytest

from tessera.core.acl import ANONYMOUS, Access, Requester, allowed, check_object_acl, effective_acl, grants_everyone
from tessera.core.errors import InvalidArgument

OWNER = Requester("LTAIowner")
STRANGER = Requester("LTAIstranger")
ROOT = Requester("LTAIroot", is_root=True)


@pytest.mark.parametrize(("acl", "read", "write"), [
    ("private", False, False),
    ("public-read", True, False),
    ("public-read-write", True, True),
    ("default", False, False),  # never applies as such: effective_acl resolves it first
    ("bogus", False, False),
])
def test_what_each_acl_grants_everyone(acl: str, read: bool, write: bool) -> None:
    assert grants_everyone(acl, Access.READ) is read
    assert grants_everyone(acl, Access.LIST) is read
    assert grants_everyone(acl, Access.WRITE) is write
    assert grants_everyone(acl, Access.OWNER) is False


@pytest.mark.parametrize(("bucket_acl", "object_acl", "effective"), [
    ("private", None, "private"),
    ("public-read", "default", "public-read"),
    ("public-read", "private", "private"),
    ("private", "public-read-write", "public-read-write"),
])
def test_an_object_acl_wins_over_its_buckets_unless_default(bucket_acl: str, object_acl: str | None,
                                                             effective: str) -> None:
    assert effective_acl(bucket_acl, object_acl) == effective


def test_owners_and_root_keys_may_do_anything() -> None:
    for access in Access:
        assert allowed(OWNER, "LTAIowner", access, ["private"])
        assert allowed(ROOT, "LTAIowner", access, ["private"])
        assert not allowed(STRANGER, "LTAIowner", access, ["private"])
        assert not allowed(ANONYMOUS, "LTAIowner", access, ["private"])


def test_everyone_else_needs_every_acl_to_grant_it() -> None:
    assert allowed(ANONYMOUS, "LTAIowner", Access.READ, ["public-read"])
    assert allowed(STRANGER, "LTAIowner", Access.READ, ["public-read", "public-read-write"])
    assert not allowed(ANONYMOUS, "LTAIowner", Access.READ, ["public-read", "private"])  # a link, a private target
    assert not allowed(ANONYMOUS, "LTAIowner", Access.WRITE, ["public-read"])
    assert not allowed(ANONYMOUS, "LTAIowner", Access.OWNER, ["public-read-write"])
    assert not allowed(ANONYMOUS, "LTAIowner", Access.READ, [])
    assert not allowed(ANONYMOUS, "", Access.READ, ["private"])  # no key owns what an anonymous one would


def test_object_acl_values() -> None:
    for acl in ("default", "private", "public-read", "public-read-write"):
        assert check_object_acl(acl) == acl
    with pytest.raises(InvalidArgument) as refused:
        check_object_acl("Public-Read")
    assert refused.value.details == {"ArgumentName": "x-oss-object-acl", "ArgumentValue": "Public-Read"}
