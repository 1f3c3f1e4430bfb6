"""Prices files: every storage class priced, or a clear refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tessera.core.metering import DAY_MS, GB
from tessera.core.prices import DEFAULT_PRICES, PricesError, load_prices

FULL = '[storage]\nStandard = 0.02\nIA = 0.0125\nArchive = 0.004\nColdArchive = 0.002\nDeepColdArchive = 1\n'


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return path


def test_reads_currency_and_every_class(tmp_path: Path) -> None:
    prices = load_prices(_file(tmp_path, 'currency = "USD"\n' + FULL))
    assert prices.currency == "USD" and prices.per_gb_month["IA"] == 0.0125
    assert prices.per_gb_month["DeepColdArchive"] == 1.0


def test_costs_are_per_gb_of_2_30_per_30_day_month() -> None:
    assert DEFAULT_PRICES.cost("Standard", GB * 30 * DAY_MS) == pytest.approx(0.12)
    assert DEFAULT_PRICES.monthly("IA", 2 * GB) == pytest.approx(0.16)


@pytest.mark.parametrize("text, message", [
    (FULL, "give the currency"),
    ('currency = "EUR"\n', "give a [storage] table"),
    ('currency = "EUR"\n[storage]\nStandard = 1\n', "no price for IA, Archive, ColdArchive, DeepColdArchive"),
    ('currency = "EUR"\n' + FULL + "Glacier = 1\n", "unknown storage class(es) Glacier"),
    ('currency = "EUR"\n' + FULL.replace("IA = 0.0125", "IA = -1"), "the price of IA must be a number ≥ 0"),
    ('currency = "EUR"\n' + FULL.replace("IA = 0.0125", 'IA = "cheap"'), "the price of IA must be a number"),
    ('currency = "EUR"\n' + FULL.replace("IA = 0.0125", "IA = nan"), "the price of IA must be a number"),
    ("currency = ", "is not valid TOML"),
])
def test_refuses_what_it_cannot_use(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PricesError, match=re.escape(message)):
        load_prices(_file(tmp_path, text))


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PricesError, match="cannot read prices file"):
        load_prices(tmp_path / "absent.toml")
