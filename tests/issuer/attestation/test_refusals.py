"""Every quote the desk refuses raises an error naming the problem and changes nothing: no row, no
event, no ledger line, no transaction, no block, no rate-limit usage."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support.attestation_desk import Desk, build_desk
from tests.support.platform import IN_SESSION

from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import UsdRateLimit, deploy_minters
from equitoken.issuer.attestation.desk import parse_side
from equitoken.issuer.attestation.errors import (
    InsufficientBalanceError,
    InvalidQuantityError,
    InventoryExhaustedError,
    MinterPausedError,
    PriceOutOfBandError,
    UnknownTickerError,
    UserNotAcceptedError,
)
from equitoken.issuer.errors import InvalidRequestError, UnknownRequestError
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.store.database import Database
from equitoken.store.schema import (
    AttestationFillRow,
    AttestationQuoteEventRow,
    AttestationQuoteRow,
    ChainTransactionRow,
    LedgerLineRow,
)


@pytest.fixture
def desk(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Desk:
    desk = build_desk(inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION)
    desk.attestation.restock("MSTR")
    desk.run()
    return desk


def _snapshot(desk: Desk) -> tuple[Any, ...]:
    tables = (
        AttestationQuoteRow,
        AttestationQuoteEventRow,
        AttestationFillRow,
        LedgerLineRow,
        ChainTransactionRow,
    )
    with desk.platform.issuer.db.transaction() as session:
        counts = tuple(session.scalar(select(func.count()).select_from(t)) for t in tables)
    minter = desk.minter("MSTR")
    return (
        counts,
        desk.chain.block_number(),
        tuple(minter.user_usage(desk.platform.wallet)),
        tuple(minter.token_usage()),
        desk.attestation.report(),
    )


def _refuses(desk: Desk, error: type[Exception], match: str, call: Callable[[], object]) -> None:
    before = _snapshot(desk)
    with pytest.raises(error, match=match):
        call()
    assert _snapshot(desk) == before


def test_every_bad_quote_is_refused_with_its_reason_and_changes_nothing(desk: Desk) -> None:
    quote, wallet, other = desk.attestation.quote, desk.platform.wallet, desk.platform.other_wallet
    broke = desk.chain.accounts[13]  # no role, no USDC
    cases: list[tuple[type[Exception], str, Callable[[], object]]] = [
        (
            InvalidRequestError,
            "not a 0x-prefixed 20-byte hex address",
            lambda: quote("0x12", "MSTR", "buy", "1"),
        ),
        (
            UnknownTickerError,
            r"ticker 'TSLA'; offered: AAPL, MSTR",
            lambda: quote(wallet, "TSLA", "buy", "1"),
        ),
        (UnknownTickerError, "offered", lambda: quote(wallet, "HOOD", "buy", "1")),  # issued, no minter
        (InvalidRequestError, "side 'hold' is not one of", lambda: quote(wallet, "MSTR", "hold", "1")),
        (InvalidQuantityError, "must be positive, not 0", lambda: quote(wallet, "MSTR", "buy", "0")),
        (InvalidQuantityError, "must be positive, not -1", lambda: quote(wallet, "MSTR", "sell", "-1")),
        (InvalidQuantityError, "is not a number", lambda: quote(wallet, "MSTR", "buy", "lots")),
        (
            InvalidQuantityError,
            "not a whole number of MSTR token steps",
            lambda: quote(wallet, "MSTR", "buy", "1.000000001"),
        ),
        (
            InvalidQuantityError,
            "under the desk's minimum of 1 USDC",
            lambda: quote(wallet, "MSTR", "buy", "0.00000001"),
        ),
        (UserNotAcceptedError, f"does not accept {other}", lambda: quote(other, "MSTR", "buy", "1")),
        (InventoryExhaustedError, "10 shares available now", lambda: quote(wallet, "MSTR", "buy", "10.5")),
        (
            InsufficientBalanceError,
            f"{wallet} holds 0 MSTR token units, the redemption needs 100000000",
            lambda: quote(wallet, "MSTR", "sell", "1"),
        ),
        (
            InsufficientBalanceError,
            f"{broke} holds 0 USDC, the mint costs",
            lambda: quote(broke, "AAPL", "buy", "1"),  # AAPL accepts anyone not sanctioned
        ),
        (UnknownTickerError, "TSLA", lambda: desk.attestation.restock("TSLA")),
        (InvalidQuantityError, "must be positive", lambda: desk.attestation.restock("MSTR", "0")),
        (UnknownRequestError, "no attestation quote 'nope'", lambda: desk.attestation.view("nope")),
    ]
    for error, match, call in cases:
        _refuses(desk, error, match, call)

    # A paused minter would refuse every quote.
    pauser = desk.platform.onchain.roles.pauser
    desk.minter("MSTR").pause(sender=pauser)
    _refuses(
        desk,
        MinterPausedError,
        "MSTR attestation minter is paused",
        lambda: quote(wallet, "MSTR", "buy", "1"),
    )
    desk.minter("MSTR").unpause(sender=pauser)

    # What open quotes promised is not offered twice.
    desk.attestation.quote(wallet, "MSTR", "buy", "6")
    _refuses(
        desk,
        InventoryExhaustedError,
        r"4 shares available now \(6 promised",
        lambda: quote(wallet, "MSTR", "buy", "5"),
    )

    # A spread wider than the minter's band would be refused on-chain: the desk does not sign it.
    wide = desk.rewire(AttestationConfig(spread_bps=150))
    _refuses(
        desk,
        PriceOutOfBandError,
        "more than 100 bps from the oracle",
        lambda: wide.quote(wallet, "MSTR", "buy", "1"),
    )

    # An oracle older than the minter's guard accepts has no usable price.
    desk.platform.clock.advance(timedelta(hours=2))
    _refuses(
        desk,
        PriceOutOfBandError,
        "oracle has no usable price now",
        lambda: quote(wallet, "MSTR", "sell", "1"),
    )


def test_bad_settings_and_deployments_are_refused(desk: Desk) -> None:
    with pytest.raises(ValueError, match="spread must be 0 to 999"):
        AttestationConfig(spread_bps=1_000)
    with pytest.raises(ValueError, match="quote_ttl must be positive"):
        AttestationConfig(quote_ttl=timedelta(0))
    with pytest.raises(ValueError, match="inventory target of AAPL is negative"):
        AttestationConfig(inventory_target={"AAPL": Shares.parse("-1")})
    with pytest.raises(ValueError, match="positive limit"):
        UsdRateLimit(Usd.zero(), Usd.parse("1"))
    with pytest.raises(InvalidRequestError, match="side 3"):
        parse_side(3)  # type: ignore[arg-type]
    p = desk.platform
    blocks = desk.chain.block_number()
    with pytest.raises(KeyError, match=r"not deployed on chain \d+: TSLA"):
        deploy_minters(
            desk.chain, p.onchain.deployment, p.onchain.roles, p.usdc.address, p.wallet, tickers=["TSLA"]
        )
    assert desk.chain.block_number() == blocks
