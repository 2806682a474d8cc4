"""The attestation mint (Ondo Global Markets model): a verified user mints or redeems at once against a
price the issuer's desk signed (the broker's price moved by the desk's spread); the issuer hedges
through the broker afterwards from an inventory of unissued shares in custody. Quotes are signed only
in the regular session. Its price is the token's NAV, the feed's answer per share."""

import random
from datetime import timedelta

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
from equitoken.comparison.world import ATTESTED_HOLDER, ATTESTED_ORDERS, ComparisonError, World
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import MinterDeployment, deploy_minters, minter_at
from equitoken.issuer.attestation.quotes import Side, SignedQuote
from equitoken.issuer.attestation.service import AttestationIssuer
from equitoken.model.quantities import Price, Shares, Usd

HOLDING_USD = 10_000
# The inventory of unissued shares the desk keeps per instrument: enough for the holding, a $100,000
# round trip and the orders, valued at the session before the period.
INVENTORY_USD = 150_000
MAX_UINT = 2**256 - 1
HEDGE_MINUTES = 120
ENTROPY_SEED = 18
_MINUTE = timedelta(minutes=1)


class AttestationProbe(Probe):
    model = "attestation_mint"
    title = "Attestation mint (instant primary against a signed quote)"

    def __init__(self) -> None:
        self.minters: MinterDeployment | None = None
        self.issuer: AttestationIssuer | None = None

    def _issuer(self) -> AttestationIssuer:
        assert self.issuer is not None
        return self.issuer

    def setup(self, world: World) -> None:
        targets = {
            t: _whole(world.share_price(t).shares_for(Usd(INVENTORY_USD * 10**6))) for t in world.tickers
        }
        self.minters = deploy_minters(
            world.chain,
            world.onchain.deployment,
            world.roles,
            world.usdc.address,
            world.actor("attestation quote signer"),
            tickers=world.tickers,
        )
        self.issuer = AttestationIssuer(
            world.database,
            world.onchain,
            self.minters,
            world.broker,
            world.prices,
            world.clock,
            world.calendar,
            AttestationConfig(inventory_target=targets),
            list(world.issuer.instruments.values()),
            # Seeded ids: the same replay signs the same quotes, so its calldata and gas repeat.
            entropy=random.Random(ENTROPY_SEED).randbytes,
        )
        for ticker in world.tickers:
            self.issuer.restock(ticker)
        self._settle(world)
        for wallet in (world.account(ATTESTED_HOLDER), world.account(ATTESTED_ORDERS)):
            for ticker in world.tickers:
                world.usdc.approve(self.minters.minter(ticker), MAX_UINT, sender=wallet)
                world.token(ticker).approve(self.minters.minter(ticker), MAX_UINT, sender=wallet)
        for ticker in world.tickers:
            shares = _whole(world.share_price(ticker).shares_for(Usd(HOLDING_USD * 10**6)))
            self._use(world, self.issuer.quote(world.account(ATTESTED_HOLDER), ticker, Side.BUY, shares))
        self._settle(world)

    def _settle(self, world: World) -> None:
        # The hedger buys (restock, mints) and sells (redemptions) through the broker, minute by minute.
        issuer = self._issuer()
        for _ in range(HEDGE_MINUTES):
            issuer.process()
            if not issuer.open_quotes():
                return
            world.advance(world.clock.now() + _MINUTE)
        raise ComparisonError(f"attestation hedges still open after {HEDGE_MINUTES} minutes")

    def _use(self, world: World, signed: SignedQuote) -> int:
        ticker = next(
            t for t, a in (self.minters.minters if self.minters else {}).items() if a == signed.minter
        )
        minter = minter_at(world.chain, signed.minter, ticker)
        call = (
            minter.mint_with_attestation if signed.quote.side is Side.BUY else minter.redeem_with_attestation
        )
        return call.transact(signed.quote.as_tuple(), signed.signature, sender=signed.quote.user).gas_used

    def tick(self, world: World) -> None:
        self._issuer().process()

    def mark(self, world: World, ticker: str) -> Price | None:
        return feed_mark(world, ticker)

    def holding(self, world: World, ticker: str) -> Holding:
        return wallet_holding(world, ticker, world.account(ATTESTED_HOLDER), "shares (UI)")

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        issuer, wallet = self._issuer(), world.account(ATTESTED_HOLDER)
        token = world.token(ticker)
        before, held = int(world.usdc.balanceOf(wallet)), int(token.balanceOf(wallet))
        try:
            shares = _step(world.share_price(ticker).shares_for(Usd(usd * 10**6)))
            gas = self._use(world, issuer.quote(wallet, ticker, Side.BUY, shares))
            got = int(token.balanceOf(wallet)) - held
            paid = before - int(world.usdc.balanceOf(wallet))
            gas += self._use(world, issuer.quote(wallet, ticker, Side.SELL, shares))
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = int(world.usdc.balanceOf(wallet))
        return RoundTrip(
            usd,
            paid=paid,
            received=after - (before - paid),
            gas=gas,
            exposure=got * world.token_price(ticker).units // 10**10,
            note="minted and redeemed at once on desk quotes (the market price moved by the desk's spread); "
            "the hedge follows at the broker, the issuer's cost",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        wallet = world.account(ATTESTED_ORDERS)
        try:
            shares = _step(world.share_price(ticker).shares_for(Usd(usd * 10**6)))
            self._use(world, self._issuer().quote(wallet, ticker, Side.BUY, shares))
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        return Delivery(world.clock.now(), note="minted in the next block against the desk's quote")

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Delivery)
        return handle


def _whole(shares: Shares) -> Shares:
    return Shares(max(shares.units // 10**9, 1) * 10**9)


def _step(shares: Shares) -> Shares:
    return Shares(shares.units // 10 * 10)
