"""Instrument value types reject what cannot be right, naming the field."""

import pytest

from equitoken.model.instrument import (
    ComplianceProfile,
    Instrument,
    InvalidInstrumentError,
    Isin,
    NoMarketDataError,
)


def test_isin_accepts_a_real_isin() -> None:
    assert str(Isin("US0378331005")) == "US0378331005"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("US0378331006", "wrong check digit"),
        ("US037833100", "is not 2 letters"),
        ("us0378331005", "is not 2 letters"),
        ("US037833100X", "is not 2 letters"),
    ],
)
def test_isin_rejects_malformed_values(value: str, message: str) -> None:
    with pytest.raises(InvalidInstrumentError, match=message):
        Isin(value)


def make(**overrides: object) -> Instrument:
    fields: dict[str, object] = {
        "ticker": "AAPL",
        "name": "Apple Inc.",
        "isin": Isin("US0378331005"),
        "exchange": "XNAS",
        "kind": "stock",
        "token_symbol": "AAPLx",
        "token_decimals": 8,
        "profile": ComplianceProfile.OPEN,
    }
    fields.update(overrides)
    return Instrument(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ticker": "aapl"}, "ticker 'aapl'"),
        ({"name": ""}, "name must have"),
        ({"name": "x" * 51}, "name must have"),
        ({"token_symbol": ""}, "token symbol"),
        ({"token_decimals": 19}, "decimals"),
        ({"kind": "bond"}, "kind must be"),
    ],
)
def test_instrument_rejects_bad_fields(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInstrumentError, match=message):
        make(**overrides)


def make_private(**overrides: object) -> Instrument:
    fields: dict[str, object] = {
        "ticker": "ACME",
        "name": "Acme Robotics Inc.",
        "isin": Isin("US00ACMER000"),
        "exchange": "",
        "kind": "private",
        "token_symbol": "ACME",
        "token_decimals": 0,
        "profile": ComplianceProfile.RESTRICTED,
    }
    fields.update(overrides)
    return make(**fields)


def test_a_private_company_is_not_listed_and_has_no_market_data() -> None:
    acme = make_private()
    assert not acme.listed
    assert make().listed
    make().require_market_data("a market quote")  # a listed stock has it
    with pytest.raises(
        NoMarketDataError, match="ACME is a private company: it has no exchange listing"
    ) as raised:
        acme.require_market_data("a market quote")
    assert "so a market quote is not available" in str(raised.value)
    assert raised.value.code == "no_market_data"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exchange": "XNAS"}, "a private company is unlisted, so it has no exchange, not 'XNAS'"),
        ({"profile": ComplianceProfile.OPEN}, "a private company's shares are restricted .* not open"),
        ({"kind": "stock"}, "a listed stock needs an exchange"),
    ],
)
def test_private_instrument_rejects_bad_fields(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInstrumentError, match=message):
        make_private(**overrides)
