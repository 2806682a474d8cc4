"""The packaged catalogue loads and validates; a bad file fails naming the line."""

from pathlib import Path

import pytest

from equitoken.issuer.catalogue import load_catalogue
from equitoken.model.instrument import ComplianceProfile, InvalidInstrumentError

HEADER = "ticker,name,isin,exchange,kind,token_symbol,token_decimals,profile\n"
AAPL = "AAPL,Apple Inc.,US0378331005,XNAS,stock,AAPLx,8,open\n"


def test_packaged_catalogue_loads() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 15
    by_ticker = {i.ticker: i for i in catalogue}
    assert by_ticker["SPY"].kind == "etf"
    assert by_ticker["MSTR"].profile is ComplianceProfile.PERMISSIONED
    assert by_ticker["HOOD"].profile is ComplianceProfile.RESTRICTED


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
