"""The ``tessera`` command.

Client commands (ossutil-style, over HTTP to any OSS endpoint): ``ls``, ``cp``, ``rm``, …
Server commands (act on the server's own storage): ``serve``, ``keys …``, ``admin …``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from typing import Any, NoReturn

from tessera.blobs.locations import BadBlobsUrl
from tessera.cli import admin, keys, serve
from tessera.cli.client import buckets as bucket_commands
from tessera.cli.client import copy as copy_commands
from tessera.cli.client import configure, lifecycle, sign
from tessera.cli.client import listing as listing_commands
from tessera.cli.client import remove as remove_commands
from tessera.core.prices import PricesError
from tessera.meta.bad_url import BadMetadataUrl

# Each module's add_parsers(commands) registers its client commands.
CLIENT_MODULES = [configure, bucket_commands, lifecycle, sign, listing_commands, remove_commands, copy_commands]


def storage_options(parser: argparse.ArgumentParser) -> None:
    """Where the server's data lives; shared by every server-side command."""
    parser.add_argument("--data-dir", default=os.environ.get("TESSERA_DATA_DIR", "./tessera-data"),
                        help="blobs (and the SQLite metadata) live here (default: ./tessera-data)")
    parser.add_argument("--blobs", default=os.environ.get("TESSERA_BLOBS"), metavar="URL",
                        help="where blob bytes live: file:///DIR, a directory that may be shared by every "
                             "gateway (default: file:// + the data directory)")
    parser.add_argument("--metadata-url", default=os.environ.get("TESSERA_METADATA_URL"),
                        help="SQLAlchemy URL of the metadata database, e.g. postgresql+asyncpg://user@host/db "
                             "(default: SQLite inside the data directory)")
    parser.add_argument("--prices", default=os.environ.get("TESSERA_PRICES"), metavar="FILE",
                        help="storage prices per GB-month, a TOML file (default: prices.toml in the data "
                             "directory if present, else OSS list prices in CNY)")


class CommandGroup:
    """Registers subcommands and remembers them under a heading, for the grouped help."""

    def __init__(self, commands: Any, heading: str) -> None:
        self.commands = commands
        self.heading = heading
        self.entries: list[tuple[str, str]] = []

    def add_parser(self, name: str, *, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        self.entries.append((name, help))
        kwargs.setdefault("description", help)
        return self.commands.add_parser(name, **kwargs)

    def describe(self) -> str:
        width = max(len(name) for name, _ in self.entries) + 2
        return "\n".join([f"{self.heading}:", *(f"  {name:<{width}}{text}" for name, text in self.entries)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="Tessera: an object store that speaks the Alibaba Cloud OSS API, and a client for it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    client = CommandGroup(commands, "client commands (talk to an OSS endpoint over HTTP; "
                                    "--endpoint, credentials from OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET)")
    for module in CLIENT_MODULES:
        module.add_parsers(client)
    server = CommandGroup(commands, "server commands (act on the server's own storage: --data-dir / --metadata-url)")
    serve.add_parser(server, storage_options)
    keys.add_parser(server, storage_options)
    admin.add_parser(server, storage_options)
    parser.epilog = f"{client.describe()}\n\n{server.describe()}\n\n'tessera COMMAND --help' tells more."
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
    except (PricesError, BadBlobsUrl, BadMetadataUrl) as error:
        print(f"tessera: {error}", file=sys.stderr)
        status = 2
    except BrokenPipeError:  # the reader went away (``tessera ls | head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    leave(status or 0)


def leave(status: int) -> NoReturn:
    """Exit with ``status``. Once the s3:// backend has run, obstore's Rust threads may still
    touch Python while the interpreter finalizes, which aborts the process after its work is
    done (2 in 100 ``tessera admin fsck`` runs exited -6 or -7 after printing "ok"). Everything
    the command opened is closed by now, so the output is flushed and the process leaves
    without finalizing (docs/scale-out.md, "The s3:// backend")."""
    if "obstore" not in sys.modules:
        sys.exit(status)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
