"""Corporate actions from the real history shipped with the package: splits and cash dividends.

Splits come from the split catalogue that `market.replay` converts prices with; the ex-date of a
split is its first day of trading on the post-split basis (`split_adjusted_trading_began_parsed`).
A split the catalogue gives no such day for (its `date` column means different things from row to
row) is reported as skipped, to be announced by hand with a checked ex-date. Dividends come from
`market.dividends`, as paid per share on the ex-date.
"""

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import date
from importlib import resources

from equitoken.issuer.corporate_actions.model import ActionKind
from equitoken.market.dividends import DIVIDENDS_FILE, cash_dividends
from equitoken.market.replay import SPLITS_FILE
from equitoken.model.quantities import Price

_SPLIT_COLUMNS = [
    "symbol",
    "name",
    "date",
    "split_adjusted_trading_began_parsed",
    "ratio_new",
    "ratio_old",
    "exchange",
    "isin",
    "source_url",
    "notes",
]


@dataclass(frozen=True)
class HistoricalAction:
    """One action found in the packaged data."""

    ticker: str
    kind: ActionKind
    ex_date: date
    ratio_new: int
    ratio_old: int
    amount: Price
    source: str


@dataclass(frozen=True)
class SkippedAction:
    """A row of the data that cannot become an action, and why."""

    ticker: str
    published_date: date
    reason: str


def history(ticker: str, since: date, until: date) -> tuple[list[HistoricalAction], list[SkippedAction]]:
    """Return the splits and dividends of `ticker` with an ex-date in [since, until], oldest first."""
    found: list[HistoricalAction] = []
    skipped: list[SkippedAction] = []
    for row in _split_rows():
        if row["symbol"] != ticker:
            continue
        new, old = int(row["ratio_new"]), int(row["ratio_old"])
        began = row["split_adjusted_trading_began_parsed"]
        if not began:
            published = date.fromisoformat(row["date"])
            if since <= published <= until:
                skipped.append(
                    SkippedAction(
                        ticker,
                        published,
                        f"{new}-for-{old} split published for {published}: the data has no first "
                        f"post-split trading day; announce it with its ex-date",
                    )
                )
            continue
        ex_date = date.fromisoformat(began)
        if since <= ex_date <= until:
            kind = ActionKind.SPLIT if new > old else ActionKind.REVERSE_SPLIT
            found.append(HistoricalAction(ticker, kind, ex_date, new, old, Price.zero(), SPLITS_FILE))
    for dividend in cash_dividends(ticker, since, until):
        found.append(
            HistoricalAction(
                ticker, ActionKind.CASH_DIVIDEND, dividend.ex_date, 1, 1, dividend.amount, DIVIDENDS_FILE
            )
        )
    found.sort(key=lambda action: (action.ex_date, action.kind))
    return found, skipped


def _split_rows() -> list[dict[str, str]]:
    raw = resources.files("equitoken.market").joinpath("data", SPLITS_FILE).read_bytes()
    with io.TextIOWrapper(io.BytesIO(gzip.decompress(raw)), encoding="utf-8", newline="") as text:
        reader = csv.DictReader(text)
        if reader.fieldnames != _SPLIT_COLUMNS:
            raise ValueError(f"{SPLITS_FILE} has columns {reader.fieldnames}, expected {_SPLIT_COLUMNS}")
        return list(reader)
