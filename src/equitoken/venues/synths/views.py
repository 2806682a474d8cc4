"""Read the synthetic stocks: each vault's price, state and totals, and each position's health.

``SynthsReader`` turns the contracts' raw words into the model's value types: USDC amounts as ``Usd``,
synthetic amounts as ``SynthAmount`` (18 decimals), prices as ``Price`` (the feed's token price,
10⁻⁸ dollar per whole token), ratios as ``Decimal``::

    reader = SynthsReader(chain, synths)
    reader.vault("AAPL").state          # VaultState.OPEN while every action is allowed
    mine = reader.position("AAPL", 7)
    mine.collateral_ratio, mine.liquidation_price

A position is valued at the feed's latest answer, stale or closed included (the vault's own
`collateral_ratio` view); while the market is halted or has no round the price is None and so are
the views that need one.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.records import BlockId
from equitoken.model.quantities import Price, Usd
from equitoken.venues.synths import maths
from equitoken.venues.synths.contracts import usdc_artifact
from equitoken.venues.synths.deployment import SynthsDeployment
from equitoken.venues.synths.parameters import WAD, SynthAmount

__all__ = ["PositionView", "PriceState", "SynthsReader", "VaultState", "VaultView"]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class VaultState(IntEnum):
    """What a vault allows now, as its `price()` reports it."""

    OPEN = 1  # every action
    CLOSED = 2  # the stock's market is closed: deposits, and withdrawals without debt
    HALTED = 3  # trading in the stock is halted: likewise
    NO_PRICE = 4  # stale, out of band or no round: likewise

    @property
    def label(self) -> str:
        """Return the state as users read it."""
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True, slots=True)
class PriceState:
    """The feed's latest answer (None if halted or no round) and what the vault allows now."""

    price: Price | None
    state: VaultState


@dataclass(frozen=True, slots=True)
class VaultView:
    """One synthetic's vault."""

    ticker: str
    vault: str
    synth: str
    state: VaultState
    price: Price | None
    total_collateral: Usd
    total_debt: SynthAmount
    bad_debt: SynthAmount
    supply: SynthAmount
    min_collateral_ratio: int  # WAD
    liquidation_penalty: int  # WAD
    max_age: int  # seconds
    positions: int  # ids handed out so far


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position, valued at the feed's latest answer."""

    ticker: str
    id: int
    owner: str
    collateral: Usd
    debt: SynthAmount
    price: Price | None
    debt_value: Usd | None
    collateral_ratio: Decimal | None  # None without debt or price
    liquidation_price: Price | None  # above it the position is below the minimum ratio
    max_mint: SynthAmount  # what it may mint now (0 unless the vault is open)
    liquidatable: bool  # the vault would accept a liquidation now

    @property
    def is_open(self) -> bool:
        """Return whether the position exists and is not closed."""
        return self.owner != ZERO_ADDRESS


class SynthsReader:
    """Views of every vault of a `SynthsDeployment` and of its positions."""

    def __init__(self, chain: EvmChain, deployment: SynthsDeployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self._vaults = {t: deployment.vault(chain, t) for t in deployment.synths}
        self._tokens = {t: deployment.token(chain, t) for t in deployment.synths}
        self.usdc = chain.at(deployment.usdc, usdc_artifact(), "USDC")

    # -- the contracts

    def vault_contract(self, ticker: str) -> Contract:
        """Return `ticker`'s vault."""
        self.deployment.synth(ticker)
        return self._vaults[ticker]

    def synth_contract(self, ticker: str) -> Contract:
        """Return `ticker`'s synthetic token."""
        self.deployment.synth(ticker)
        return self._tokens[ticker]

    # -- raw reads

    def raw_position(self, ticker: str, position_id: int, block: BlockId = "latest") -> tuple[str, int, int]:
        """Return the position's owner (the zero address if closed), collateral and debt (raw units)."""
        owner, collateral, debt = self.vault_contract(ticker).position.call(position_id, block=block)
        return str(owner), int(collateral), int(debt)

    def next_position_id(self, ticker: str, block: BlockId = "latest") -> int:
        """Return the id the vault's next position gets."""
        return int(self.vault_contract(ticker).next_position_id.call(block=block))

    def risk(self, ticker: str, block: BlockId = "latest") -> tuple[int, int]:
        """Return the vault's minimum collateral ratio and liquidation penalty (WAD)."""
        vault = self.vault_contract(ticker)
        return int(vault.min_collateral_ratio.call(block=block)), int(
            vault.liquidation_penalty.call(block=block)
        )

    def raw_price(self, ticker: str, block: BlockId = "latest") -> tuple[int, VaultState]:
        """Return the feed's answer (0 if none) and the vault's state."""
        price, state = self.vault_contract(ticker).price.call(block=block)
        return int(price), VaultState(int(state))

    # -- views

    def price_state(self, ticker: str, block: BlockId = "latest") -> PriceState:
        """Return `ticker`'s price and what its vault allows now."""
        price, state = self.raw_price(ticker, block)
        return PriceState(Price(price) if price else None, state)

    def vault(self, ticker: str, block: BlockId = "latest") -> VaultView:
        """Return `ticker`'s vault view."""
        deployed = self.deployment.synth(ticker)
        vault = self.vault_contract(ticker)
        price, state = self.raw_price(ticker, block)
        min_ratio, penalty = self.risk(ticker, block)
        return VaultView(
            ticker=ticker,
            vault=deployed.vault,
            synth=deployed.synth,
            state=state,
            price=Price(price) if price else None,
            total_collateral=Usd(int(vault.total_collateral.call(block=block))),
            total_debt=_synth(int(vault.total_debt.call(block=block))),
            bad_debt=_synth(int(vault.bad_debt.call(block=block))),
            supply=_synth(int(self.synth_contract(ticker).totalSupply.call(block=block))),
            min_collateral_ratio=min_ratio,
            liquidation_penalty=penalty,
            max_age=int(vault.guard_limits.call(block=block)[0]),
            positions=self.next_position_id(ticker, block) - 1,
        )

    def vaults(self, block: BlockId = "latest") -> list[VaultView]:
        """Return every vault's view, in the deployment's order."""
        return [self.vault(ticker, block) for ticker in self.deployment.synths]

    def position(self, ticker: str, position_id: int, block: BlockId = "latest") -> PositionView:
        """Return position `position_id` of `ticker`'s vault (all zero if closed or never opened)."""
        price, state = self.raw_price(ticker, block)
        min_ratio, _ = self.risk(ticker, block)
        raw = self.raw_position(ticker, position_id, block)
        return self.value_position(ticker, position_id, raw, price, state, min_ratio)

    def positions(
        self, ticker: str, owner: str | None = None, block: BlockId = "latest"
    ) -> list[PositionView]:
        """Return the open positions of `ticker`'s vault (of `owner` only, if given), by id."""
        price, state = self.raw_price(ticker, block)
        min_ratio, _ = self.risk(ticker, block)
        found = []
        for position_id in range(1, self.next_position_id(ticker, block)):
            raw = self.raw_position(ticker, position_id, block)
            if raw[0] == ZERO_ADDRESS or (owner is not None and raw[0].lower() != owner.lower()):
                continue
            found.append(self.value_position(ticker, position_id, raw, price, state, min_ratio))
        return found

    def value_position(
        self,
        ticker: str,
        position_id: int,
        raw: tuple[str, int, int],
        price: int,
        state: VaultState,
        min_ratio: int,
    ) -> PositionView:
        """Return the view of a position from its raw words, a price (0: none) and the vault's state."""
        owner, collateral, debt = raw
        ratio = maths.collateral_ratio(collateral, debt, price) if price else None
        threshold = maths.liquidation_price(collateral, debt, min_ratio)
        tradable = state == VaultState.OPEN and owner != ZERO_ADDRESS
        room = max(0, maths.max_debt(collateral, price, min_ratio) - debt) if tradable and price else 0
        return PositionView(
            ticker=ticker,
            id=position_id,
            owner=owner,
            collateral=Usd(collateral),
            debt=_synth(debt),
            price=Price(price) if price else None,
            debt_value=Usd(maths.debt_value(debt, price)) if price else None,
            collateral_ratio=None if ratio is None else Decimal(ratio) / Decimal(WAD),
            liquidation_price=None if threshold is None else Price(threshold),
            max_mint=_synth(room),
            liquidatable=tradable and debt > 0 and not maths.is_healthy(collateral, debt, price, min_ratio),
        )


def _synth(raw: int) -> SynthAmount:
    return SynthAmount(raw)
