"""The synthetic stock (Synthetix / Mirror model): a minter locks USDC at a collateral ratio and mints
synthetic tokens worth the token's price; the exposure is the debt's value. Every action but a deposit
is suspended while the stock market is closed or the price is older than the vault's limit."""

from equitoken.comparison.probes.base import (
    REFUSALS,
    Delivery,
    Holding,
    Probe,
    RoundTrip,
    per_share,
    refusal,
)
from equitoken.comparison.world import World
from equitoken.model.quantities import Price
from equitoken.venues.synths.deployment import SynthsDeployment, deploy_synths
from equitoken.venues.synths.parameters import SynthSettings

WAD = 10**18
RATIO = 3  # collateral locked per dollar minted
HOLDING_USD = 10_000
UNLIMITED = 2**256 - 1
MAX_AGE = 3_600  # the world feeds the oracle hourly
STATE_OPEN = 1


class SynthProbe(Probe):
    model = "synthetic"
    title = "Synthetic stock (over-collateralised debt position)"

    def __init__(self) -> None:
        self.synths: SynthsDeployment | None = None
        self._positions: dict[str, int] = {}
        self._debt: dict[str, int] = {}

    def _vault(self, world: World, ticker: str):  # type: ignore[no-untyped-def]
        assert self.synths is not None
        return self.synths.vault(world.chain, ticker)

    def setup(self, world: World) -> None:
        self.synths = deploy_synths(
            world.chain,
            world.roles.admin,
            world.usdc.address,
            world.onchain.deployment,
            world.tickers,
            settings={t: SynthSettings(max_age=MAX_AGE + 300) for t in world.tickers},
        )
        minter = world.actor("synth minter")
        for ticker in world.tickers:
            vault = self._vault(world, ticker)
            world.usdc.approve(vault.address, UNLIMITED, sender=minter)
            amount = self._amount(world, ticker, HOLDING_USD)
            vault.open_position.transact(RATIO * HOLDING_USD * 10**6, amount, sender=minter)
            self._positions[ticker] = int(vault.next_position_id()) - 1
            self._debt[ticker] = amount

    def _amount(self, world: World, ticker: str, usd: int) -> int:
        # Synthetic units (18 decimals) worth `usd` at the vault's price.
        price = int(self._vault(world, ticker).price()[0])
        return usd * 10**8 * WAD // price

    def mark(self, world: World, ticker: str) -> Price | None:
        price, _state = self._vault(world, ticker).price()
        return per_share(int(price), world.multiplier(ticker)) if int(price) else None

    def holding(self, world: World, ticker: str) -> Holding:
        assert self.synths is not None
        synth = self.synths.token(world.chain, ticker)
        held = int(synth.balanceOf(world.actor("synth minter")))
        price = int(self._vault(world, ticker).price()[0])
        return Holding(
            held * price // 10**20, 0, f"{held / WAD:,.4f} synthetic tokens, no shareholder rights"
        )

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        vault = self._vault(world, ticker)
        minter = world.actor("synth minter")
        before = int(world.usdc.balanceOf(minter))
        try:
            amount = self._amount(world, ticker, usd)
            opened = vault.open_position.transact(RATIO * usd * 10**6, amount, sender=minter)
            position = int(vault.next_position_id()) - 1
            burned = vault.burn.transact(position, amount, sender=minter)
            closed = vault.close_position.transact(position, sender=minter)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = int(world.usdc.balanceOf(minter))
        exposure = amount * world.token_price(ticker).units // 10**20
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            gas=opened.gas_used + burned.gas_used + closed.gas_used,
            exposure=exposure,
            note=f"minted against {RATIO}x USDC collateral and burnt back; no venue to buy the synthetic "
            "from",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        vault, minter = self._vault(world, ticker), world.actor("synth orders")
        try:
            world.usdc.approve(vault.address, UNLIMITED, sender=minter)
            vault.open_position.transact(RATIO * usd * 10**6, self._amount(world, ticker, usd), sender=minter)
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        return Delivery(world.clock.now(), note="minted in the next block")

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Delivery)
        return handle
