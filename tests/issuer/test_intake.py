"""Bad requests get an error that names the problem, and change nothing: no row, no transaction."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.platform import IN_SESSION, USDC, Platform, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.errors import (
    ComplianceError,
    IdempotencyConflictError,
    InvalidRequestError,
    LimitExceededError,
    UnknownInvestorError,
)
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.errors import EquitokenError, InsufficientFundsError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import Usd
from equitoken.store.database import Database
from equitoken.store.schema import Base


def _snapshot(platform: Platform) -> tuple[dict[str, int], int, int]:
    """Row counts of every table, the chain's block number and the USDC held by the participant."""
    with platform.issuer.db.transaction() as session:
        counts = {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }
    return counts, platform.chain.block_number(), int(platform.usdc.balanceOf(platform.wallet))


def _refused(
    platform: Platform, error: type[EquitokenError], match: str, attempt: Callable[[], object]
) -> EquitokenError:
    before = _snapshot(platform)
    with pytest.raises(error, match=match) as raised:
        attempt()
    assert _snapshot(platform) == before
    return raised.value


@pytest.fixture
def funded(platform: Platform) -> Platform:
    platform.approve_mint(10**6 * USDC)
    return platform


def _mint(
    platform: Platform, ticker: str = "AAPL", quantity: str = "1", key: str = "k", wallet: str = ""
) -> None:
    platform.issuer.request_mint(platform.participant.id, wallet or platform.wallet, ticker, quantity, key)


@pytest.mark.parametrize(
    ("ticker", "match"),
    [
        ("AAPLL", "unknown instrument 'AAPLL'; did you mean AAPL"),
        ("ZZZZ", "unknown instrument 'ZZZZ'"),
        ("", "unknown"),
    ],
)
def test_unknown_ticker(funded: Platform, ticker: str, match: str) -> None:
    _refused(funded, UnknownInstrumentError, match, lambda: _mint(funded, ticker=ticker))


@pytest.mark.parametrize(
    ("quantity", "match"),
    [
        ("0", "quantity must be positive"),
        ("-1", "quantity must be positive"),
        ("1.000000001", "more than 9 decimals|more decimals"),
        ("1.123456789", "more decimals than the AAPLx token's 8"),
        ("one", "is not a number"),
        ("NaN", "not a finite number"),
    ],
)
def test_bad_quantity(funded: Platform, quantity: str, match: str) -> None:
    _refused(funded, InvalidRequestError, match, lambda: _mint(funded, quantity=quantity))


def test_dust_below_the_minimum_order(funded: Platform) -> None:
    _refused(
        funded,
        LimitExceededError,
        r"below the minimum of 10 USD",
        lambda: _mint(funded, quantity="0.00000001"),
    )


def test_over_the_maximum_order(funded: Platform) -> None:
    _refused(funded, LimitExceededError, r"above the maximum", lambda: _mint(funded, quantity="100000"))


def test_over_the_daily_limit(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    config = IssuerConfig(daily_limit_per_investor=Usd.parse("1000"))
    platform = build_platform(evm_chain, database, prices, calendar, tmp_path, config=config)
    platform.approve_mint(10**6 * USDC)
    _mint(platform, quantity="3", key="first")  # about 830 USD

    _refused(
        platform,
        LimitExceededError,
        r"24-hour limit of 1000 USD",
        lambda: _mint(platform, quantity="1", key="b"),
    )


def test_insufficient_allowance(platform: Platform) -> None:
    platform.approve_mint(10 * USDC)
    _refused(
        platform,
        InsufficientFundsError,
        r"insufficient payment: .* approved 10 USDC",
        lambda: _mint(platform),
    )


def test_insufficient_balance(funded: Platform) -> None:
    funded.usdc.transfer(
        funded.other_wallet, int(funded.usdc.balanceOf(funded.wallet)) - 5 * USDC, sender=funded.wallet
    )
    _refused(funded, InsufficientFundsError, r"insufficient payment: .* holds 5 USDC", lambda: _mint(funded))


def test_redeem_more_than_held(funded: Platform) -> None:
    funded.approve_redeem("AAPL", 10**8)
    _refused(
        funded,
        InsufficientFundsError,
        r"holds 0 AAPLx units, the redemption needs 100000000",
        lambda: funded.issuer.request_redeem(funded.participant.id, funded.wallet, "AAPL", "1", "r"),
    )


def test_sanctioned_wallet(funded: Platform) -> None:
    funded.onchain.sanctions.addToSanctionsList([funded.wallet], sender=funded.onchain.roles.admin)
    _refused(funded, ComplianceError, r"wallet .* is sanctioned", lambda: _mint(funded))


def test_wallet_of_someone_else(funded: Platform) -> None:
    _refused(
        funded,
        ComplianceError,
        r"is not bound to investor",
        lambda: _mint(funded, wallet=funded.other_wallet),
    )


@pytest.mark.parametrize("wallet", ["0x123", "not an address", "0x" + "g" * 40])
def test_malformed_wallet(funded: Platform, wallet: str) -> None:
    _refused(
        funded,
        InvalidRequestError,
        r"is not a 0x-prefixed 20-byte hex address",
        lambda: _mint(funded, wallet=wallet),
    )


def test_unknown_investor(funded: Platform) -> None:
    _refused(
        funded,
        UnknownInvestorError,
        "no investor 'inv-nobody'",
        lambda: funded.issuer.request_mint("inv-nobody", funded.wallet, "AAPL", "1", "k"),
    )


def test_expired_kyc(funded: Platform) -> None:
    funded.clock.advance(timedelta(days=366))
    _refused(funded, ComplianceError, r"KYC expired on 2026-12-01", lambda: _mint(funded))


def test_frozen_investor(funded: Platform) -> None:
    funded.issuer.investors.set_frozen(funded.participant.id, True)
    _refused(funded, ComplianceError, r"is frozen", lambda: _mint(funded))


def test_retail_investor_cannot_mint(funded: Platform) -> None:
    retail = funded.issuer.investors.onboard(
        "A Retail Client", "DE", "retail", kyc_expires_at=IN_SESSION + timedelta(days=30)
    )
    funded.issuer.investors.bind_wallet(retail.id, funded.other_wallet)
    _refused(
        funded,
        ComplianceError,
        "only authorised participants",
        lambda: funded.issuer.request_mint(retail.id, funded.other_wallet, "AAPL", "1", "k"),
    )


def test_blocked_jurisdiction_cannot_onboard(platform: Platform) -> None:
    _refused(
        platform,
        ComplianceError,
        "jurisdiction US is blocked",
        lambda: platform.issuer.investors.onboard(
            "Some US Fund", "us", "authorised_participant", kyc_expires_at=IN_SESSION + timedelta(days=30)
        ),
    )


def test_unknown_jurisdiction_cannot_onboard(platform: Platform) -> None:
    _refused(
        platform,
        InvalidRequestError,
        "jurisdiction 'XX' is not an ISO 3166-1",
        lambda: platform.issuer.investors.onboard(
            "Nowhere Ltd", "XX", "authorised_participant", kyc_expires_at=IN_SESSION + timedelta(days=30)
        ),
    )


def test_idempotency_key_reused_for_another_request(funded: Platform) -> None:
    _mint(funded, quantity="1", key="once")
    _refused(
        funded,
        IdempotencyConflictError,
        "was used for a different request",
        lambda: _mint(funded, quantity="2", key="once"),
    )


@pytest.mark.parametrize("key", ["", "   ", "k" * 129])
def test_bad_idempotency_key(funded: Platform, key: str) -> None:
    _refused(
        funded,
        InvalidRequestError,
        "idempotency key must have 1 to 128 characters",
        lambda: _mint(funded, key=key),
    )
