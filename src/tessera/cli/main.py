"""The ``tessera`` command.

Server side (act on the server's own storage): ``serve``, ``keys …``, ``admin …``.
"""

from __future__ import annotations

import argparse
import os
import sys

from tessera.cli import admin, keys, serve
from tessera.core.prices import PricesError


def storage_options(parser: argparse.ArgumentParser) -> None:
    """Where the server's data lives; shared by every server-side command."""
    parser.add_argument("--data-dir", default=os.environ.get("TESSERA_DATA_DIR", "./tessera-data"),
                        help="blobs (and the SQLite metadata) live here (default: ./tessera-data)")
    parser.add_argument("--metadata-url", default=os.environ.get("TESSERA_METADATA_URL"),
                        help="SQLAlchemy URL of the metadata database, e.g. postgresql+asyncpg://user@host/db "
                             "(default: SQLite inside the data directory)")
    parser.add_argument("--prices", default=os.environ.get("TESSERA_PRICES"), metavar="FILE",
                        help="storage prices per GB-month, a TOML file (default: prices.toml in the data "
                             "directory if present, else OSS list prices in CNY)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="Tessera: an object store that speaks the Alibaba Cloud OSS API.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="server commands act on the server's own storage (--data-dir / --metadata-url).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="server commands")
    serve.add_parser(commands, storage_options)
    keys.add_parser(commands, storage_options)
    admin.add_parser(commands, storage_options)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
    except PricesError as error:
        print(f"tessera: {error}", file=sys.stderr)
        status = 2
    sys.exit(status or 0)
