"""The packaged catalogue loads and validates; a bad file fails naming the line."""

import csv
from importlib import resources
from pathlib import Path

import pytest

from equitoken.issuer.catalogue import Catalogue, load_catalogue
from equitoken.model.instrument import ComplianceProfile, InvalidInstrumentError, UnknownInstrumentError

HEADER = "ticker,name,isin,exchange,kind,token_symbol,token_decimals,profile\n"
AAPL = "AAPL,Apple Inc.,US0378331005,XNAS,stock,AAPLx,8,open\n"

# ISO 10383 MICs of the US venues the catalogue may name: Nasdaq, NYSE, NYSE Arca, Cboe BZX.
KNOWN_MICS = {"XNAS", "XNYS", "ARCX", "BATS"}

# The first rows, in this order, are what local deployments and their tests rely on.
FIRST_ROWS = (
    "AAPL",
    "MSFT",
    "NVDA",
    "AMZN",
    "GOOGL",
    "META",
    "TSLA",
    "NFLX",
    "AMD",
    "MSTR",
    "PLTR",
    "HOOD",
    "COIN",
    "SPY",
    "QQQ",
)

# Real identifiers (cross-checked against /work/shared/data/splits.csv and public ISIN lists).
KNOWN_ISINS = {
    "AAPL": "US0378331005",
    "MSFT": "US5949181045",
    "NVDA": "US67066G1040",
    "JPM": "US46625H1005",
    "V": "US92826C8394",
    "BRK.B": "US0846707026",
    "XOM": "US30231G1022",
    "KO": "US1912161007",
    "SPY": "US78462F1030",
    "QQQ": "US46090E1038",
    "IWM": "US4642876555",
    "DIA": "US78467X1090",
    "GLD": "US78463V1070",
    "TLT": "US4642874329",
    "XLK": "US81369Y8030",
}

KNOWN_EXCHANGES = {
    "AAPL": "XNAS",
    "JPM": "XNYS",
    "BRK.B": "XNYS",
    "WMT": "XNAS",  # moved from NYSE to Nasdaq on 2025-12-09
    "SPY": "ARCX",
    "QQQ": "XNAS",
    "IWM": "ARCX",
    "GLD": "ARCX",
}


def test_packaged_catalogue_loads() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 60
    by_ticker = {i.ticker: i for i in catalogue}
    assert by_ticker["SPY"].kind == "etf"
    assert by_ticker["MSTR"].profile is ComplianceProfile.PERMISSIONED
    assert by_ticker["HOOD"].profile is ComplianceProfile.RESTRICTED


def test_first_rows_keep_their_order() -> None:
    assert tuple(i.ticker for i in load_catalogue()[: len(FIRST_ROWS)]) == FIRST_ROWS


def test_packaged_catalogue_is_consistent() -> None:
    catalogue = load_catalogue()
    for field in ("ticker", "isin", "token_symbol"):
        values = [str(getattr(i, field)) for i in catalogue]
        assert len(set(values)) == len(values), field
    for instrument in catalogue:
        assert instrument.exchange in KNOWN_MICS, instrument.ticker
        assert str(instrument.isin).startswith("US"), instrument.ticker
        assert instrument.token_symbol == f"{instrument.ticker}x"
        assert instrument.token_decimals == 8
    kinds = {i.kind for i in catalogue}
    assert kinds == {"stock", "etf"}
    assert sum(i.kind == "etf" for i in catalogue) >= 10


def test_most_instruments_are_open() -> None:
    catalogue = load_catalogue()
    gated = [i for i in catalogue if i.profile is not ComplianceProfile.OPEN]
    assert 0 < len(gated) <= 10


@pytest.mark.parametrize(("ticker", "isin"), sorted(KNOWN_ISINS.items()))
def test_real_isins(ticker: str, isin: str) -> None:
    assert str(Catalogue.load().get(ticker).isin) == isin


@pytest.mark.parametrize(("ticker", "exchange"), sorted(KNOWN_EXCHANGES.items()))
def test_listing_venues(ticker: str, exchange: str) -> None:
    assert Catalogue.load().get(ticker).exchange == exchange


def test_packaged_file_is_plain_csv() -> None:
    # One row per instrument, no blank or padded lines that a spreadsheet export might add.
    text = (resources.files("equitoken.issuer") / "data" / "instruments.csv").read_text()
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    rows = list(csv.reader(text.splitlines()))
    assert all(len(row) == 8 and row == [cell.strip() for cell in row] for row in rows)


def test_catalogue_looks_up_and_iterates() -> None:
    catalogue = Catalogue.load()
    assert catalogue.get("AAPL").name == "Apple Inc."
    assert catalogue.get("BRK.B").token_symbol == "BRK.Bx"
    assert "MSFT" in catalogue
    assert "MSFTx" not in catalogue
    assert len(catalogue) == len(load_catalogue())
    assert [i.ticker for i in catalogue] == [i.ticker for i in load_catalogue()]
    assert catalogue.tickers[: len(FIRST_ROWS)] == list(FIRST_ROWS)


@pytest.mark.parametrize(
    ("ticker", "suggested"),
    [("APPL", "AAPL"), ("aapl", "AAPL"), ("BRKB", "BRK.B"), ("GOOGLE", "GOOGL"), ("JMP", "JPM")],
)
def test_unknown_ticker_suggests_close_matches(ticker: str, suggested: str) -> None:
    with pytest.raises(UnknownInstrumentError) as raised:
        Catalogue.load().get(ticker)
    error = raised.value
    assert isinstance(error, LookupError)
    assert error.ticker == ticker
    assert error.suggestions[0] == suggested
    assert str(error).startswith(
        f"no instrument with ticker {ticker!r} in the catalogue; did you mean {suggested}"
    )


def test_unknown_ticker_without_close_matches() -> None:
    with pytest.raises(
        UnknownInstrumentError, match=r"^no instrument with ticker 'ZZZZZZ' in the catalogue$"
    ):
        Catalogue.load().get("ZZZZZZ")


def test_catalogue_rejects_duplicate_tickers() -> None:
    aapl = Catalogue.load().get("AAPL")
    with pytest.raises(InvalidInstrumentError, match="ticker AAPL appears twice"):
        Catalogue([aapl, aapl])


def test_catalogue_loads_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "instruments.csv"
    path.write_text(HEADER + AAPL)
    catalogue = Catalogue.load(path)
    assert catalogue.tickers == ["AAPL"]
    with pytest.raises(UnknownInstrumentError, match="did you mean AAPL"):
        catalogue.get("AAPLE")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ticker,name\n", "columns must be"),
        (HEADER + AAPL.replace("open", "secret"), ":2: unknown compliance profile 'secret'"),
        (
            HEADER + AAPL.replace("US0378331005", "US0378331006"),
            ":2: ISIN 'US0378331006' has a wrong check digit",
        ),
        (HEADER + AAPL.replace(",8,", ",eight,"), ":2: invalid literal"),
        (HEADER + AAPL + AAPL, "ticker AAPL appears twice"),
    ],
)
def test_bad_catalogue_files_fail_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "instruments.csv"
    path.write_text(content)
    with pytest.raises(InvalidInstrumentError, match=message):
        load_catalogue(path)


ACME = "ACME,Acme Robotics Inc.,US00ACMER000,,private,ACME,0,restricted\n"


def test_packaged_private_companies_load() -> None:
    private = Catalogue.load_private()
    acme = private.get("ACME")
    assert (acme.kind, acme.exchange, acme.listed, acme.profile) == (
        "private",
        "",
        False,
        ComplianceProfile.RESTRICTED,
    )
    # The listed catalogue holds no private company, so nothing that deploys it meets one unasked.
    assert all(instrument.listed for instrument in Catalogue.load())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + AAPL, "AAPL is a listed stock"),
        (HEADER + ACME.replace(",,private", ",XNAS,private"), ":2: ACME: a private company is unlisted"),
        (HEADER + ACME.replace("restricted", "open"), ":2: ACME: a private company's shares are restricted"),
    ],
)
def test_bad_private_company_files_fail_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "private.csv"
    path.write_text(content)
    with pytest.raises(InvalidInstrumentError, match=message):
        Catalogue.load_private(path)
