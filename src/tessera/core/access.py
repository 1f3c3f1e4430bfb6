"""Access keys: the root key's bootstrap, and creating, listing and deleting keys."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from tessera.core.storage import Storage
from tessera.meta import keys as key_rows
from tessera.meta.locks import hold_until_commit
from tessera.core.models import AccessKey

_ALPHANUMERIC = string.ascii_letters + string.digits


def generate_key(now_ms: int, *, is_root: bool = False) -> AccessKey:
    key_id = "LTAI" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(20))
    secret = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(30))
    return AccessKey(key_id, secret, now_ms, is_root)


@dataclass(frozen=True)
class Bootstrap:
    """What the first start did about credentials; ``generated`` is shown once, then never."""

    generated: AccessKey | None = None
    imported: str | None = None


async def ensure_root_key(storage: Storage, env_key_id: str | None, env_secret: str | None) -> Bootstrap:
    """Make sure someone can sign requests.

    Keys from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET (what every SDK sample reads) are
    added when missing — as the root key on first start. Without them, a first start
    generates a root key.
    """
    async with storage.db.write() as conn:
        await hold_until_commit(conn, "first keys")  # gateways starting together add them once
        has_root = await key_rows.has_root(conn)
        if env_key_id and env_secret:
            if await key_rows.secret_for(conn, env_key_id) is None:
                await key_rows.add(conn, AccessKey(env_key_id, env_secret, storage.clock(), not has_root))
                return Bootstrap(imported=env_key_id)
            return Bootstrap()
        if has_root:
            return Bootstrap()
        key = generate_key(storage.clock(), is_root=True)
        await key_rows.add(conn, key)
        return Bootstrap(generated=key)


async def is_root(storage: Storage, access_key_id: str) -> bool:
    async with storage.db.read() as conn:
        return await key_rows.is_root(conn, access_key_id)


async def create_key(storage: Storage) -> AccessKey:
    key = generate_key(storage.clock())
    async with storage.db.write() as conn:
        await key_rows.add(conn, key)
    return key


async def list_keys(storage: Storage) -> list[AccessKey]:
    async with storage.db.read() as conn:
        return await key_rows.list_all(conn)


async def delete_key(storage: Storage, access_key_id: str) -> bool:
    async with storage.db.write() as conn:
        return await key_rows.delete(conn, access_key_id)
