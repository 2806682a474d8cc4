"""The desk reads the minter's linearly decaying USD rate limits as the next block will see them, less
what open quotes promised: a quote beyond them is refused naming the limit and what is available, and
the same quote is signed once the used amount has decayed enough."""

from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.attestation_desk import build_desk
from tests.support.platform import IN_SESSION

from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.attestation.deployment import MinterSettings, UsdRateLimit
from equitoken.issuer.attestation.errors import RateLimitedError
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.store.database import Database
from equitoken.store.schema import AttestationQuoteRow

USER_LIMIT = UsdRateLimit(Usd.parse("1000"), Usd.parse("1"))  # decays a dollar a second
TOKEN_LIMIT = UsdRateLimit(Usd.parse("1500"), Usd.parse("1"))


def test_rate_limits_refuse_then_decay_linearly(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    settings = MinterSettings(user_limit=USER_LIMIT, token_limit=TOKEN_LIMIT)
    desk = build_desk(
        inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION, settings=settings
    )
    attestation, wallet, clock = desk.attestation, desk.platform.wallet, desk.platform.clock
    attestation.restock("MSTR")
    desk.run()
    desk.approve(wallet, "MSTR")
    price = prices.quote("MSTR", clock.now()).price
    # Shares worth about $800 and $300, in whole token steps.
    big = Shares(price.shares_for(Usd.parse("800")).units // 10 * 10)
    small = Shares(price.shares_for(Usd.parse("300")).units // 10 * 10)

    desk.use(attestation.quote(wallet, "MSTR", "buy", big))

    minter = desk.minter("MSTR")
    available = Usd(int(minter.available_for_user.call(wallet, block="pending")))
    seen_at = desk.chain.timestamp("pending")
    assert Usd.parse("190") < available < Usd.parse("210")
    with pytest.raises(RateLimitedError, match=f"the user rate limit: {available} USDC available now"):
        attestation.quote(wallet, "MSTR", "buy", small)

    # 120 seconds later the user's used amount has decayed by $120: the same quote fits.
    clock.advance(timedelta(seconds=120))
    desk.chain.mine()
    decayed = Usd(int(minter.available_for_user.call(wallet, block="pending")))
    elapsed = desk.chain.timestamp("pending") - seen_at
    assert elapsed >= 110
    assert decayed == available + Usd(USER_LIMIT.decay_per_second.units * elapsed)
    signed = attestation.quote(wallet, "MSTR", "buy", small)

    # The open quote holds its dollars: another is refused for what is left after it.
    with sqlite_db.transaction() as session:
        row = session.get(AttestationQuoteRow, signed.quote.id_hex)
        assert row is not None
        promised = Usd(row.notional_usd)
    left = decayed - promised
    with pytest.raises(
        RateLimitedError, match=rf"user rate limit: {left} USDC available now \({promised} USDC"
    ):
        attestation.quote(wallet, "MSTR", "sell", small)

    # The token's own limit binds once the user's is not the tighter one.
    clock.advance(timedelta(seconds=600))
    minter.set_token_rate_limit(Usd.parse("400").units, 1, sender=desk.platform.onchain.roles.admin)
    # The open quote has expired meanwhile: it promises nothing any more.
    token_left = Usd(int(minter.available_for_token.call(block="pending")))
    user_left = Usd(int(minter.available_for_user.call(wallet, block="pending")))
    assert token_left < user_left
    with pytest.raises(
        RateLimitedError, match=rf"token rate limit: {token_left} USDC available now \(0 USDC promised"
    ):
        attestation.quote(
            wallet, "MSTR", "buy", Shares(price.shares_for(token_left + Usd.parse("5")).units // 10 * 10)
        )
