"""What stored bytes cost: a price per GB-month for each storage class, from a TOML file.

OSS bills storage hourly: billed GB × the monthly price ÷ 30 days ÷ 24 hours, with GB = 2^30
bytes. Tessera does the same over exact byte-milliseconds, so a cost is

    billed byte-ms / 2^30 / (30 × 24 × 3600 × 1000 ms) × price per GB-month.

The built-in prices are OSS's public pay-as-you-go list prices for locally redundant storage in
the Chinese mainland, in CNY per GB-month. They are a starting point, not a promise: operators
set their own — what their disks, power and people cost, or what they charge their users — in a
file such as::

    currency = "EUR"

    [storage]          # per GB (2^30 bytes) per month (30 days)
    Standard = 0.020
    IA = 0.012
    Archive = 0.004
    ColdArchive = 0.002
    DeepColdArchive = 0.001

A file names every storage class: a price missing or misspelt is an error, never a silent zero.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from tessera.core.metering import DAY_MS, GB
from tessera.core.models import STORAGE_CLASSES

MONTH_MS = 30 * DAY_MS

DEFAULT_CURRENCY = "CNY"
DEFAULT_PER_GB_MONTH: Mapping[str, float] = MappingProxyType({
    "Standard": 0.12,
    "IA": 0.08,
    "Archive": 0.033,
    "ColdArchive": 0.015,
    "DeepColdArchive": 0.0075,
})


class PricesError(ValueError):
    """A prices file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Prices:
    currency: str = DEFAULT_CURRENCY
    per_gb_month: Mapping[str, float] = field(default_factory=lambda: DEFAULT_PER_GB_MONTH)
    source: str = "built-in defaults (OSS list prices, Chinese mainland, LRS)"

    def cost(self, storage_class: str, billed_byte_ms: int) -> float:
        """What ``billed_byte_ms`` byte-milliseconds of ``storage_class`` storage cost."""
        return billed_byte_ms / GB / MONTH_MS * self.per_gb_month[storage_class]

    def monthly(self, storage_class: str, billed_bytes: int) -> float:
        """What keeping ``billed_bytes`` in ``storage_class`` costs for a month."""
        return billed_bytes / GB * self.per_gb_month[storage_class]


DEFAULT_PRICES = Prices()


def load_prices(path: Path) -> Prices:
    """Read a prices file (see the module documentation)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PricesError(f"cannot read prices file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise PricesError(f"prices file {path} is not valid TOML: {error}") from None
    currency = document.get("currency")
    if not isinstance(currency, str) or not currency.strip():
        raise PricesError(f"prices file {path}: give the currency, e.g. currency = \"CNY\"")
    table = document.get("storage")
    if not isinstance(table, dict):
        raise PricesError(f"prices file {path}: give a [storage] table of prices per GB-month")
    unknown = sorted(set(table) - set(STORAGE_CLASSES))
    if unknown:
        raise PricesError(f"prices file {path}: unknown storage class(es) {', '.join(unknown)}; "
                          f"the classes are {', '.join(STORAGE_CLASSES)}")
    missing = [cls for cls in STORAGE_CLASSES if cls not in table]
    if missing:
        raise PricesError(f"prices file {path}: no price for {', '.join(missing)}")
    prices: dict[str, float] = {}
    for cls in STORAGE_CLASSES:
        value = table[cls]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise PricesError(f"prices file {path}: the price of {cls} must be a number ≥ 0, not {value!r}")
        prices[cls] = float(value)
    return Prices(currency.strip(), MappingProxyType(prices), str(path))
