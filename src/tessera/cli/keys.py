"""``tessera keys create|list|delete``: access keys of this server."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, Callable


def add_parser(commands: Any, storage_options: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser("keys", help="manage access keys (server side)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print its secret (shown once)")
    listing = actions.add_parser("list", help="list keys (secrets are never shown)")
    delete = actions.add_parser("delete", help="delete a key")
    delete.add_argument("access_key_id")
    for sub in (create, listing, delete):
        storage_options(sub)
        sub.set_defaults(run=lambda args: asyncio.run(_run(args)))


async def _run(args: argparse.Namespace) -> int:
    from tessera.cli.runtime import open_storage  # the storage engine loads only when a command runs
    from tessera.core import access

    storage = await open_storage(args)
    try:
        if args.action == "create":
            key = await access.create_key(storage)
            print(f"AccessKeyId:     {key.access_key_id}")
            print(f"AccessKeySecret: {key.secret}")
            return 0
        if args.action == "list":
            for key in await access.list_keys(storage):
                print(f"{key.access_key_id}{'  (root)' if key.is_root else ''}")
            return 0
        if await access.delete_key(storage, args.access_key_id):
            print(f"deleted {args.access_key_id}")
            return 0
        print(f"no such key: {args.access_key_id}")
        return 1
    finally:
        await storage.db.close()
