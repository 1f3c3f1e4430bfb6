"""Opening the server's storage from command-line options."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.engine import make_url

from tessera.blobs.locations import default_blobs_url, open_blobs
from tessera.core.prices import DEFAULT_PRICES, Prices, load_prices
from tessera.core.storage import Storage
from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade


def metadata_url(args: argparse.Namespace) -> str:
    return args.metadata_url or sqlite_url(Path(args.data_dir).resolve())


def blobs_url(args: argparse.Namespace) -> str:
    return args.blobs or default_blobs_url(Path(args.data_dir))


def describe_url(url: str) -> str:
    """The metadata URL with any password hidden, for printing."""
    return make_url(url).render_as_string(hide_password=True)


async def open_storage(args: argparse.Namespace, *, region: str = "cn-hangzhou", migrate: bool = True) -> Storage:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    prices = prices_for(args)
    blobs = open_blobs(blobs_url(args))  # a URL it cannot use stops the command before the database is touched
    db = Database(metadata_url(args))
    if migrate:
        await upgrade(db)
    return Storage(db, blobs, region=region, prices=prices)


def prices_for(args: argparse.Namespace) -> Prices:
    """--prices FILE, else ``prices.toml`` in the data directory if there is one, else the defaults."""
    if args.prices:
        return load_prices(Path(args.prices))
    in_data_dir = Path(args.data_dir) / "prices.toml"
    return load_prices(in_data_dir) if in_data_dir.exists() else DEFAULT_PRICES
