"""The AMM arbitrage keeper: swap each pool back into a band around the oracle's price.

Each `tick` reads, per ticker, the feed's latest round (`latestRoundStatus`) and the pool's
reserves. The oracle-safety rule comes first: a round older than `max_age`, a HALTED round or a
non-positive answer is never acted on, and the refusal names why (`refusals`). Otherwise, when the
pool's price (USDC reserve / stock reserve, in the feed's units: 1e-8 dollars per whole token)
lies outside `band_bps` of the oracle's answer (`closed_band_bps` while the market is closed, when
the pool's wider fee makes a tight band a loss), the keeper sells into the pool the input that moves
it exactly to the band's edge (`constant_product.input_to_price`), capped by `max_trade_usdc` of
USDC either way and by its own balances, with a slippage limit and a deadline on the swap.

Each swap is a real signed transaction from `account`. A trade is recorded on the venue tape
(`VenueTradeBook`, venue ``"amm"``, trade id = the transaction's hash, idempotent) when one is given,
so the oracle's `internal` closed-market price sees the AMM; the tape holds it in shares, under the
token's UI multiplier in force at the swap's block (`uiMultiplierAt`), since the pool trades raw
token units at the token's price. The keeper keeps no state between ticks
beyond approvals: a killed keeper resumes from the chain, and a swap it sent is visible in the
reserves it reads next, so it never repeats one.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.keepers.constant_product import amount_out, input_to_price
from equitoken.keepers.oracle_round import OracleRound, UnsafeRoundError, read_safe_round
from equitoken.keepers.rules import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_AGE,
    DEFAULT_SLIPPAGE_BPS,
    MAX_SECONDS,
    KeeperConfigError,
    Refusal,
    RefusalReason,
    check_ranges,
)
from equitoken.model.bps import BPS
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import PRICE_DECIMALS, Price, Shares, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.trades import VenueTrade, VenueTradeBook
from equitoken.venues.amm import AmmDeployment

__all__ = [
    "AMM_VENUE",
    "ArbitrageKeeper",
    "ArbitrageTrade",
]

AMM_VENUE = "amm"
DEFAULT_BAND_BPS = 50
DEFAULT_CLOSED_BAND_BPS = 200
_UNLIMITED = 2**256 - 1

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArbitrageTrade:
    """One swap the keeper made: what went in and out, the prices around it, and its transaction.

    `price` is the swap's own (USDC per whole raw token) and `quantity` its stock leg, raw token units
    as shares one for one; the tape holds both in shares (`VenueTrade.of_tokens`).
    """

    ticker: str
    stock_in: bool
    amount_in: int
    amount_out: int
    usdc_notional: Usd
    oracle_price: Price
    pool_price_before: Price
    pool_price_after: Price
    status: MarketStatus
    round_id: int
    price: Price
    quantity: Shares
    tx_hash: str
    traded_at: datetime


class ArbitrageKeeper:
    """Hold each AMM pool's price within a band of its oracle price by swapping from `account`."""

    def __init__(
        self,
        chain: EvmChain,
        account: str,
        amm: AmmDeployment,
        feeds: Mapping[str, str],
        *,
        band_bps: int = DEFAULT_BAND_BPS,
        closed_band_bps: int = DEFAULT_CLOSED_BAND_BPS,
        max_trade_usdc: Usd,
        max_age: int = DEFAULT_MAX_AGE,
        slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
        deadline_seconds: int = DEFAULT_DEADLINE,
        tape: VenueTradeBook | None = None,
    ) -> None:
        check_ranges(
            ("band_bps", band_bps, 1, BPS - 1),
            ("closed_band_bps", closed_band_bps, 1, BPS - 1),
            ("slippage_bps", slippage_bps, 0, BPS - 1),
            ("max_age", max_age, 1, MAX_SECONDS),
            ("deadline_seconds", deadline_seconds, 1, MAX_SECONDS),
        )
        if max_trade_usdc.units <= 0:
            raise KeeperConfigError(f"max_trade_usdc must be positive, not {max_trade_usdc}")
        if not feeds:
            raise KeeperConfigError("the keeper needs at least one ticker's feed")
        if amm.chain_id != chain.chain_id:
            raise KeeperConfigError(f"the AMM is deployed on chain {amm.chain_id}, not {chain.chain_id}")
        missing = sorted(set(feeds) - set(amm.pools))
        if missing:
            raise KeeperConfigError(f"no AMM pool for {', '.join(missing)}")
        self.chain = chain
        self.account = chain.signers.get(account).address
        self.amm = amm
        self.band_bps = band_bps
        self.closed_band_bps = closed_band_bps
        self.max_trade_usdc = max_trade_usdc
        self.max_age = max_age
        self.slippage_bps = slippage_bps
        self.deadline_seconds = deadline_seconds
        self.tape = tape
        self.refusals: list[Refusal] = []
        feed_artifact = compile_contract("oracle/PriceFeed.vy")
        token_artifact = compile_contract("token/StockToken.vy")
        self._usdc = chain.at(amm.usdc, compile_contract("settlement/TestUSDC.vy"), "USDC")
        usdc_decimals = int(self._usdc.decimals())
        self._feeds = {
            ticker: chain.at(address, feed_artifact, f"{ticker} feed") for ticker, address in feeds.items()
        }
        self._pools = {ticker: amm.pool(chain, ticker) for ticker in feeds}
        self._stocks: dict[str, Contract] = {}
        self._scales: dict[str, int] = {}
        self._decimals: dict[str, int] = {}
        for ticker, pool in self._pools.items():
            stock = chain.at(str(pool.stock()), token_artifact, ticker)
            if str(self._feeds[ticker].token()) != stock.address:
                raise KeeperConfigError(f"the feed given for {ticker} prices another token")
            self._stocks[ticker] = stock
            stock_decimals = int(stock.decimals())
            # Price units per (raw USDC / raw stock): 1e-8 dollars per whole token.
            exponent = PRICE_DECIMALS + stock_decimals - usdc_decimals
            if exponent < 0:
                raise KeeperConfigError(f"{ticker}'s token has too few decimals to price in 1e-8 dollars")
            self._scales[ticker] = 10**exponent
            self._decimals[ticker] = stock_decimals

    def tick(self) -> list[ArbitrageTrade]:
        """Look at every pool once and swap those outside their band back to its edge."""
        self.refusals = []
        trades: list[ArbitrageTrade] = []
        for ticker in self._pools:
            trade = self._tick_pool(ticker)
            if trade is not None:
                trades.append(trade)
        return trades

    def pool_price(self, ticker: str) -> Price:
        """Return `ticker`'s pool price in the feed's units (0 for an empty pool)."""
        stock_reserve, usdc_reserve = (int(v) for v in self._pools[ticker].reserves())
        return Price(usdc_reserve * self._scales[ticker] // stock_reserve if stock_reserve else 0)

    def _refuse(self, ticker: str, reason: RefusalReason, detail: str) -> None:
        _log.info("arbitrage keeper leaves %s alone: %s (%s)", ticker, detail, reason)
        self.refusals.append(Refusal(ticker, reason, detail))

    def _tick_pool(self, ticker: str) -> ArbitrageTrade | None:
        try:
            latest = read_safe_round(self._feeds[ticker], self.chain.timestamp("pending"), self.max_age)
        except UnsafeRoundError as unsafe:
            self._refuse(ticker, RefusalReason(unsafe.reason), unsafe.detail)
            return None
        pool = self._pools[ticker]
        stock_reserve, usdc_reserve = (int(v) for v in pool.reserves())
        if stock_reserve == 0 or usdc_reserve == 0:
            self._refuse(ticker, RefusalReason.EMPTY_POOL, "the pool has no liquidity")
            return None
        scale = self._scales[ticker]
        band = self.band_bps if latest.status == MarketStatus.OPEN else self.closed_band_bps
        low = latest.answer * (BPS - band) // BPS
        high = -(-latest.answer * (BPS + band) // BPS)
        # Compare y/x with the edges without rounding: y·scale vs edge·x.
        if usdc_reserve * scale < low * stock_reserve:
            stock_in, target = False, low
        elif usdc_reserve * scale > high * stock_reserve:
            stock_in, target = True, high
        else:
            return None
        try:
            fee = int(pool.fee_bps())
        except RevertError as exc:
            self._refuse(ticker, RefusalReason.POOL_REFUSED, f"the pool trades no swap now: {exc}")
            return None
        if stock_in:
            wanted = input_to_price(stock_reserve, usdc_reserve, fee, target, scale)
            # At most the pool's current price per unit, so the USDC received stays within the limit.
            limit = self.max_trade_usdc.units * stock_reserve // usdc_reserve
            balance = int(self._stocks[ticker].balanceOf(self.account))
            amount_in = min(wanted, limit, balance)
            paid = amount_out(amount_in, stock_reserve, usdc_reserve, fee)
        else:
            wanted = input_to_price(usdc_reserve, stock_reserve, fee, scale, target)
            balance = int(self._usdc.balanceOf(self.account))
            amount_in = min(wanted, self.max_trade_usdc.units, balance)
            paid = amount_out(amount_in, usdc_reserve, stock_reserve, fee)
        if amount_in == 0 or paid == 0:
            side = ticker if stock_in else "USDC"
            self._refuse(
                ticker, RefusalReason.NO_INVENTORY, f"the keeper has no {side} to move the pool with"
            )
            return None
        return self._swap(ticker, latest, stock_in, amount_in, paid, stock_reserve, usdc_reserve)

    def _swap(
        self,
        ticker: str,
        latest: OracleRound,
        stock_in: bool,
        amount_in: int,
        expected_out: int,
        stock_reserve: int,
        usdc_reserve: int,
    ) -> ArbitrageTrade | None:
        pool = self._pools[ticker]
        paying = self._stocks[ticker] if stock_in else self._usdc
        if int(paying.allowance(self.account, pool.address)) < amount_in:
            paying.approve(pool.address, _UNLIMITED, sender=self.account)
        min_out = expected_out * (BPS - self.slippage_bps) // BPS
        deadline = self.chain.timestamp("pending") + self.deadline_seconds
        before = self.pool_price(ticker)
        try:
            receipt = pool.swap.transact(
                amount_in, min_out, stock_in, self.account, deadline, sender=self.account
            )
        except RevertError as exc:
            self._refuse(ticker, RefusalReason.POOL_REFUSED, f"the swap reverted: {exc}")
            return None
        swapped = next(e for e in pool.decode_logs(receipt) if e.name == "Swap")
        received = int(swapped.args["amount_out"])
        usdc_amount = received if stock_in else amount_in
        stock_amount = amount_in if stock_in else received
        block_time = self.chain.timestamp(receipt.block_number)
        traded_at = datetime.fromtimestamp(block_time, UTC)
        trade = ArbitrageTrade(
            ticker=ticker,
            stock_in=stock_in,
            amount_in=amount_in,
            amount_out=received,
            usdc_notional=Usd(usdc_amount),
            oracle_price=Price(latest.answer),
            pool_price_before=before,
            pool_price_after=self.pool_price(ticker),
            status=latest.status,
            round_id=latest.round_id,
            price=Price(usdc_amount * self._scales[ticker] // stock_amount),
            quantity=Shares.from_token_units(stock_amount, self._decimals[ticker]),
            tx_hash=receipt.tx_hash,
            traded_at=traded_at,
        )
        _log.info("arbitrage keeper swapped %s: %s", ticker, trade)
        if self.tape is not None:
            multiplier = Multiplier(int(self._stocks[ticker].uiMultiplierAt(block_time)))
            self.tape.record(
                VenueTrade.of_tokens(
                    AMM_VENUE, receipt.tx_hash, ticker, trade.price, trade.quantity, multiplier, traded_at
                )
            )
        return trade
