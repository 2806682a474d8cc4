"""The hedger's other endings: a quote never used expires with nothing moved, and a hedge the broker
refuses waits, saying why, until it can be placed."""

from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.attestation_desk import TARGET, build_desk
from tests.support.platform import IN_SESSION

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.attestation.states import HedgeState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.database import Database

TOKEN_UNIT = 10**8


def test_an_unused_quote_expires_and_moves_nothing(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    desk = build_desk(inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION)
    attestation, wallet = desk.attestation, desk.platform.wallet
    attestation.restock("MSTR")
    desk.run()
    desk.approve(wallet, "MSTR")
    signed = attestation.quote(wallet, "MSTR", "buy", "3")
    assert attestation.report().ticker("MSTR").quoted_buy == Shares.parse("3")

    attestation.process()  # still live: nothing to do
    assert attestation.view(signed.quote.id_hex).state is HedgeState.QUOTED
    desk.platform.clock.advance(timedelta(minutes=5))
    desk.chain.mine()
    attestation.process()

    view = attestation.view(signed.quote.id_hex)
    assert view.state is HedgeState.EXPIRED
    assert view.reason is not None
    assert "expired unused" in view.reason
    line = attestation.report().ticker("MSTR")
    assert (line.custody, line.outstanding, line.ledger_inventory, line.quoted_buy) == (
        TARGET,
        Shares.zero(),
        TARGET,
        Shares.zero(),
    )
    with pytest.raises(RevertError, match="quote expired"):
        desk.use(signed)
    assert desk.platform.broker.order(f"att-{signed.quote.attestation_id.hex()[:40]}") is None


def test_a_hedge_the_broker_refuses_waits_until_it_can_be_placed(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    desk = build_desk(inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION)
    attestation, wallet, p = desk.attestation, desk.platform.wallet, desk.platform
    # Tokens the broker account holds no shares for (minted by hand, backed by an attestation).
    roles, token = p.onchain.roles, p.token("MSTR")
    p.onchain.reserve_feed("MSTR").update(2 * TOKEN_UNIT, p.chain.timestamp(), sender=roles.attester)
    token.mint(wallet, 2 * TOKEN_UNIT, sender=roles.minter)
    desk.approve(wallet, "MSTR")
    signed = attestation.quote(wallet, "MSTR", "sell", "2")
    desk.use(signed)

    attestation.process()
    view = attestation.view(signed.quote.id_hex)
    assert view.state is HedgeState.EXECUTED
    assert view.reason is not None
    assert "broker refused the hedge order" in view.reason
    assert attestation.report().ticker("MSTR").to_sell == Shares.parse("2")

    attestation.restock("MSTR", "2")  # the broker account buys the shares; the sale can go
    desk.run()
    view = attestation.view(signed.quote.id_hex)
    assert view.state is HedgeState.HEDGED
    assert view.filled == Shares.parse("2")
