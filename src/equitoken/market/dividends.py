"""Real cash dividends shipped with the package: ex-date and dollars paid per share, as paid on the day.

Data (see `data/README.md`): Yahoo chart dividend events for AAPL, MSFT, NVDA, QQQ, SPY, META and
GOOGL, 2019-02-08 to 2026-05-21. The file carries ex-dates only (no declaration, record or payment
date); its `amount_as_paid_derived` column undoes the source's split adjustment, so an amount is what
one share held on the ex-date received (AAPL 2019-02-08: $0.73, not the split-adjusted $0.1825).
"""

import csv
import functools
import gzip
import io
from dataclasses import dataclass
from datetime import date
from importlib import resources

from equitoken.model.quantities import Price

DIVIDENDS_FILE = "dividends.csv.gz"

_COLUMNS = ["ticker", "ex_date", "amount_split_adjusted", "amount_as_paid_derived", "source"]


@dataclass(frozen=True, slots=True)
class CashDividend:
    """One cash dividend: paid to holders of record on `ex_date`, `amount` dollars per share as paid."""

    ticker: str
    ex_date: date
    amount: Price


@functools.cache
def _all() -> tuple[CashDividend, ...]:
    raw = resources.files("equitoken.market").joinpath("data", DIVIDENDS_FILE).read_bytes()
    with io.TextIOWrapper(io.BytesIO(gzip.decompress(raw)), encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader)
        if header != _COLUMNS:
            raise ValueError(f"{DIVIDENDS_FILE} has columns {header}, expected {_COLUMNS}")
        return tuple(
            CashDividend(ticker, date.fromisoformat(ex_date), Price.parse(as_paid))
            for ticker, ex_date, _adjusted, as_paid, _source in reader
        )


def cash_dividends(ticker: str, since: date = date.min, until: date = date.max) -> list[CashDividend]:
    """Return the packaged dividends of `ticker` with an ex-date in [since, until], oldest first."""
    return sorted(
        (d for d in _all() if d.ticker == ticker and since <= d.ex_date <= until), key=lambda d: d.ex_date
    )
