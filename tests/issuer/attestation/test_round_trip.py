"""A user mints and redeems at once with quotes the desk signed, on a real (in-process) chain; the
hedger buys and sells the shares afterwards, and the backing report tells the truth at every step."""

from pathlib import Path

from eth_utils.crypto import keccak
from tests.support.attestation_desk import TARGET, Desk, build_desk
from tests.support.platform import IN_SESSION

from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.attestation.hedger import client_order_id
from equitoken.issuer.attestation.quotes import typed_quote
from equitoken.issuer.attestation.states import HedgeState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.store.database import Database

TOKEN_UNIT = 10**8


def _stocked(desk: Desk, ticker: str) -> str:
    restock = desk.attestation.restock(ticker)
    assert restock is not None
    desk.run()
    line = desk.attestation.report().ticker(ticker)
    assert (line.custody, line.outstanding, line.inventory, line.ledger_inventory) == (
        TARGET,
        Shares.zero(),
        TARGET,
        TARGET,
    )
    return restock


def test_a_user_mints_and_redeems_with_desk_quotes_and_the_hedge_restores_the_inventory(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    desk = build_desk(inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION)
    platform, attestation = desk.platform, desk.attestation
    wallet, treasury = platform.wallet, platform.onchain.roles.operator
    restock = _stocked(desk, "MSTR")
    desk.approve(wallet, "MSTR")
    usdc = platform.usdc
    wallet_usdc, treasury_usdc = int(usdc.balanceOf(wallet)), int(usdc.balanceOf(treasury))

    mint = attestation.quote(wallet, "MSTR", "buy", "2")
    typed = typed_quote(mint.quote, mint.minter)
    digest = keccak(b"\x19" + typed.version + typed.header + typed.body)
    assert bytes(desk.minter("MSTR").quote_digest(mint.quote.as_tuple())) == digest
    desk.use(mint)

    paid = int(usdc.balanceOf(treasury)) - treasury_usdc
    assert paid == wallet_usdc - int(usdc.balanceOf(wallet)) == mint.quote.price * 2 > 0
    assert int(platform.token("MSTR").balanceOf(wallet)) == 2 * TOKEN_UNIT
    # Executed on-chain, not yet seen: the report shows the tokens out and the inventory drawn down.
    line = attestation.report().ticker("MSTR")
    assert (line.outstanding, line.inventory, line.quoted_buy) == (
        Shares.parse("2"),
        Shares.parse("8"),
        Shares.parse("2"),
    )
    assert line.backed

    attestation.process()  # sees the mint, places the hedge: the broker has not filled yet
    view = attestation.view(mint.quote.id_hex)
    assert view.state is HedgeState.HEDGING
    during = attestation.report().ticker("MSTR")
    assert (during.custody, during.outstanding, during.to_buy, during.to_sell) == (
        TARGET,
        Shares.parse("2"),
        Shares.parse("2"),
        Shares.zero(),
    )
    assert during.ledger_inventory == Shares.parse("8") == during.inventory
    assert during.price is not None
    assert during.usd_at_risk == during.price.notional(Shares.parse("2"), round_up=True) > Usd.zero()

    desk.run()
    after = attestation.report().ticker("MSTR")
    assert (after.custody, after.outstanding, after.inventory, after.to_buy) == (
        Shares.parse("12"),
        Shares.parse("2"),
        TARGET,
        Shares.zero(),
    )
    assert attestation.view(mint.quote.id_hex).state is HedgeState.HEDGED
    assert platform.issuer.reconcile().ok

    wallet_usdc, treasury_usdc = int(usdc.balanceOf(wallet)), int(usdc.balanceOf(treasury))
    redeem = attestation.quote(wallet, "MSTR", "sell", "1.5")
    desk.use(redeem)

    received = int(usdc.balanceOf(wallet)) - wallet_usdc
    assert received == treasury_usdc - int(usdc.balanceOf(treasury)) == redeem.quote.price * 3 // 2
    assert redeem.quote.price < mint.quote.price  # the spread on each side of one market price
    assert int(platform.token("MSTR").balanceOf(wallet)) == TOKEN_UNIT // 2
    attestation.process()
    during = attestation.report().ticker("MSTR")
    assert (during.custody, during.outstanding, during.to_sell) == (
        Shares.parse("12"),
        Shares.parse("0.5"),
        Shares.parse("1.5"),
    )
    desk.run()
    final = attestation.report().ticker("MSTR")
    assert (final.custody, final.outstanding, final.inventory, final.to_sell) == (
        Shares.parse("10.5"),
        Shares.parse("0.5"),
        TARGET,
        Shares.zero(),
    )
    assert platform.issuer.reconcile().ok
    # The reserve feed attests what custody holds after the last hedge.
    reserve = int(platform.onchain.reserve_feed("MSTR").latestRoundData()[1])
    assert reserve == int(Shares.parse("10.5").units // 10)
    assert int(platform.broker.positions()["MSTR"].units) >= Shares.parse("10.5").units

    # The inventory's dollars: the flows' USDC in and out, the broker's fills out and in.
    orders = [
        platform.broker.order(client_order_id(q)) for q in (restock, mint.quote.id_hex, redeem.quote.id_hex)
    ]
    bought = sum(o.filled_notional(round_up=True).units for o in orders[:2] if o is not None)
    sold = sum(o.filled_notional(round_up=False).units for o in orders[2:] if o is not None)
    assert final.net_usd == Usd(paid - received - bought + sold)
