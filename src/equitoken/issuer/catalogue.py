"""The instrument catalogue: every stock and ETF the platform can tokenize, and, in a file of their own,
the private companies whose shares it can issue (no listing, no market data)."""

import csv
import difflib
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from equitoken.model.instrument import (
    ComplianceProfile,
    Instrument,
    InvalidInstrumentError,
    Isin,
    UnknownInstrumentError,
)

LISTED = "instruments.csv"
PRIVATE_COMPANIES = "private_companies.csv"
_COLUMNS = ("ticker", "name", "isin", "exchange", "kind", "token_symbol", "token_decimals", "profile")


class Catalogue:
    """The instruments by ticker, in catalogue order."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_ticker: dict[str, Instrument] = {}
        for instrument in instruments:
            if instrument.ticker in self._by_ticker:
                raise InvalidInstrumentError(f"ticker {instrument.ticker} appears twice")
            self._by_ticker[instrument.ticker] = instrument

    @classmethod
    def load(cls, path: Path | None = None) -> "Catalogue":
        """Load and validate a catalogue file; the packaged one unless `path` is given."""
        return cls(load_catalogue(path))

    @classmethod
    def load_private(cls, path: Path | None = None) -> "Catalogue":
        """Load and validate a file of private companies; the packaged one unless `path` is given."""
        source = path or _packaged(PRIVATE_COMPANIES)
        instruments = load_catalogue(source)
        for instrument in instruments:
            if instrument.listed:
                raise InvalidInstrumentError(f"{source}: {instrument.ticker} is a listed {instrument.kind}")
        return cls(instruments)

    def get(self, ticker: str) -> Instrument:
        """Return the instrument for `ticker`, or raise `UnknownInstrumentError`."""
        try:
            return self._by_ticker[ticker]
        except KeyError:
            suggestions = self._close_matches(ticker)
            hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
            raise UnknownInstrumentError(
                f"no instrument with ticker {ticker!r} in the catalogue{hint}",
                ticker=ticker,
                suggestions=suggestions,
            ) from None

    def _close_matches(self, ticker: str) -> list[str]:
        wanted = ticker.strip().upper()
        if wanted in self._by_ticker:
            return [wanted]
        # difflib finds the candidates; among equally similar ones, fewer edits
        # win, so a typo like APPL suggests AAPL before PYPL.
        candidates = difflib.get_close_matches(wanted, self._by_ticker, n=len(self._by_ticker), cutoff=0.5)
        ranked = sorted(
            candidates,
            key=lambda t: (-difflib.SequenceMatcher(None, wanted, t).ratio(), _edit_distance(wanted, t)),
        )
        return ranked[:3]

    @property
    def tickers(self) -> list[str]:
        """Every ticker, in catalogue order."""
        return list(self._by_ticker)

    def __contains__(self, ticker: object) -> bool:
        return ticker in self._by_ticker

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_ticker.values())

    def __len__(self) -> int:
        return len(self._by_ticker)


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def load_catalogue(path: Path | None = None) -> list[Instrument]:
    """Load and validate the catalogue; the packaged one unless `path` is given."""
    source = path or _packaged(LISTED)
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise InvalidInstrumentError(f"{source}: columns must be {', '.join(_COLUMNS)}")
        instruments = [_parse(row, source, line) for line, row in enumerate(reader, start=2)]
    _reject_duplicates(instruments, source)
    return instruments


def _packaged(name: str) -> Path:
    return Path(str(resources.files("equitoken.issuer") / "data" / name))


def _parse(row: dict[str, str], source: Path, line: int) -> Instrument:
    try:
        return Instrument(
            ticker=row["ticker"],
            name=row["name"],
            isin=Isin(row["isin"]),
            exchange=row["exchange"],
            kind=row["kind"],
            token_symbol=row["token_symbol"],
            token_decimals=int(row["token_decimals"]),
            profile=ComplianceProfile[row["profile"].upper()],
        )
    except KeyError as error:
        raise InvalidInstrumentError(
            f"{source}:{line}: unknown compliance profile {row['profile']!r}"
        ) from error
    except ValueError as error:
        raise InvalidInstrumentError(f"{source}:{line}: {error}") from error


def _reject_duplicates(instruments: list[Instrument], source: Path) -> None:
    for field in ("ticker", "isin", "token_symbol"):
        seen: set[str] = set()
        for instrument in instruments:
            value = str(getattr(instrument, field))
            if value in seen:
                raise InvalidInstrumentError(f"{source}: {field} {value} appears twice")
            seen.add(value)
