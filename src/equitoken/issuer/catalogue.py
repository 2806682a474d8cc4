"""The instrument catalogue: every stock and ETF the platform can tokenize."""

import csv
from importlib import resources
from pathlib import Path

from equitoken.model.instrument import ComplianceProfile, Instrument, InvalidInstrumentError, Isin

_COLUMNS = ("ticker", "name", "isin", "exchange", "kind", "token_symbol", "token_decimals", "profile")


def load_catalogue(path: Path | None = None) -> list[Instrument]:
    """Load and validate the catalogue; the packaged one unless `path` is given."""
    source = path or Path(str(resources.files("equitoken.issuer") / "data" / "instruments.csv"))
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise InvalidInstrumentError(f"{source}: columns must be {', '.join(_COLUMNS)}")
        instruments = [_parse(row, source, line) for line, row in enumerate(reader, start=2)]
    _reject_duplicates(instruments, source)
    return instruments


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
