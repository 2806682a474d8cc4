"""The backed token bought and sold at the issuer (the permissioned token's only door): a verified
participant mints through the workflow (USDC escrowed, the broker buys the shares, tokens minted) and
redeems (tokens burnt, the broker sells, USDC paid). Its price is the token's NAV, the feed's answer
per share; the issuer fills only in a regular session."""

from dataclasses import dataclass
from datetime import datetime

from equitoken.comparison.probes.base import (
    REFUSALS,
    Delivery,
    Holding,
    Probe,
    RoundTrip,
    feed_mark,
    refusal,
    wallet_holding,
)
from equitoken.comparison.world import HOLDER, HOLDER_ORDERS, World
from equitoken.issuer.workflow.states import RequestState
from equitoken.model.quantities import Price, Shares, Usd

HOLDING_USD = 10_000


@dataclass(frozen=True)
class _Order:
    request_id: str
    placed_at: datetime


class PrimaryProbe(Probe):
    model = "permissioned_primary"
    title = "Backed token minted and redeemed at the issuer (the permissioned token's path)"

    def __init__(self) -> None:
        self._keys = 0

    def _key(self, what: str) -> str:
        self._keys += 1
        return f"compare-{what}-{self._keys}"

    def _wallet(self, world: World) -> str:
        return world.account(HOLDER)

    def setup(self, world: World) -> None:
        for ticker in world.tickers:
            shares = world.share_price(ticker).shares_for(Usd(HOLDING_USD * 10**6))
            world.mint(ticker, _whole_tokens(shares), self._key("hold"))

    def mark(self, world: World, ticker: str) -> Price | None:
        return feed_mark(world, ticker)

    def holding(self, world: World, ticker: str) -> Holding:
        return wallet_holding(world, ticker, self._wallet(world), "shares in the wallet (UI balance)")

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        wallet = self._wallet(world)
        token = world.token(ticker)
        shares = _step(world.share_price(ticker).shares_for(Usd(usd * 10**6)))
        before = int(world.usdc.balanceOf(wallet))
        gas = world.usdc.approve.transact(world.roles.operator, 10**15, sender=wallet).gas_used
        try:
            minted = world.issuer.request_mint(world.participant.id, wallet, ticker, shares, self._key("rt"))
            world.settle_requests()
            mint = world.issuer.request(minted.id)
            if mint.state is not RequestState.COMPLETED:
                return RoundTrip(usd, refused=f"mint ended {mint.state.value}: {mint.reason}")
            exposure = mint.filled_notional.units
            raw = mint.tokens_settled
            # The redemption's raw amount rounds up under the multiplier: approve one unit more.
            gas += token.approve.transact(world.roles.burner, raw + 1, sender=wallet).gas_used
            redeemed = world.issuer.request_redeem(
                world.participant.id, wallet, ticker, shares, self._key("rt")
            )
            world.settle_requests()
            redeem = world.issuer.request(redeemed.id)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        if redeem.state is not RequestState.COMPLETED:
            return RoundTrip(usd, refused=f"redeem ended {redeem.state.value}: {redeem.reason}")
        after = int(world.usdc.balanceOf(wallet))
        minutes = (redeem.events[-1].at - mint.created_at).total_seconds() / 60
        return RoundTrip(
            usd,
            paid=before - after + redeem.settled.units,
            received=redeem.settled.units,
            gas=gas,
            exposure=exposure,
            note=f"mint and redemption through the broker took {minutes:.0f} min of market time; "
            f"fees {mint.fee} + {redeem.fee}",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        wallet = world.account(HOLDER_ORDERS)
        world.usdc.approve(world.roles.operator, 10**15, sender=wallet)
        shares = _step(world.share_price(ticker).shares_for(Usd(usd * 10**6)))
        try:
            request = world.issuer.request_mint(
                world.investor_of(wallet), wallet, ticker, shares, self._key("order")
            )
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        return _Order(request.id, world.clock.now())

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, _Order)
        request = world.issuer.request(handle.request_id)
        if not request.state.is_final:
            return None
        if request.state is not RequestState.COMPLETED:
            return Delivery(None, f"request ended {request.state.value}: {request.reason}")
        minted = next(e.at for e in request.events if e.to_state == RequestState.COMPLETED.value)
        return Delivery(minted, note="tokens minted after the broker's fill")


def _step(shares: Shares) -> Shares:
    # Token steps of 1e-8 share: the issuer refuses finer quantities.
    return Shares(shares.units // 10 * 10)


def _whole_tokens(shares: Shares) -> Shares:
    return Shares(max(shares.units // 10**9, 1) * 10**9)
