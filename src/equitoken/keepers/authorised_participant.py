"""The authorised-participant keeper: mint into a pool's premium, redeem out of its discount.

An authorised participant (AP) can create tokens at the share price plus the issuer's fee, and
return them for the share price less the fee. When an AMM pool prices a token above the oracle by
more than what a round trip costs, the keeper mints through the issuer and sells the new tokens into
the pool; when the pool prices it below, it buys from the pool and redeems. Each such round trip is a
*cycle* with a number per ticker, and every step of it is named after the cycle:

- premium: issuer request ``<prefix>:<n>:mint`` -> once final, the minted tokens are sold into the
  pool by the outbox transaction ``<prefix>:<n>:sell:<attempt>``;
- discount: the outbox transaction ``<prefix>:<n>:buy:<attempt>`` -> once confirmed, the tokens it
  bought are redeemed by issuer request ``<prefix>:<n>:redeem``;

with ``<prefix> = ap-keeper:<wallet>:<ticker>``. The names are the issuer's idempotency keys and the
outbox's unique purposes, so the keeper keeps no state of its own: each tick reads the latest cycle
back from the issuer's database and resumes it, and a second request for a ticker is never opened
while one is in flight. A swap stored but not yet broadcast is broadcast again before anything new is
sent; one that reverted (its deadline passed while the keeper was down, say) is retried as the next
attempt.

A cycle starts only from a safe oracle round (fresh, not halted, positive; the same rule as the
arbitrage keeper) whose status is OPEN: the issuer's broker order fills at once in the regular
session, while one placed outside it would wait for the next session's price, which the keeper
cannot know when it decides. The size moves the pool to the edge of the fee band (the closed form
of `constant_product.input_to_price`), capped by `max_notional`, and is taken only if the expected
round trip pays at least the margin with the flat fee included. The keeper does not run the
issuer's workflow: the issuer's own process (`equitoken up`, or `Issuer.process`) settles requests.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.durable.outbox import TxOutcome, TxStatus
from equitoken.issuer.errors import IssuerError
from equitoken.issuer.investors import InvestorCategory
from equitoken.issuer.service import Issuer, RequestView
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
    RefusedError,
    check_ranges,
)
from equitoken.model.bps import BPS
from equitoken.model.quantities import PRICE_DECIMALS, Price, Shares, Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.oracle.observation import MarketStatus
from equitoken.store.schema import ChainTransactionRow
from equitoken.venues.amm import AmmDeployment

__all__ = [
    "ApAction",
    "ApActionKind",
    "ApReport",
    "AuthorisedParticipantKeeper",
]

DEFAULT_MARGIN_BPS = 20
_UNLIMITED = 2**256 - 1

_log = logging.getLogger(__name__)


class ApActionKind(StrEnum):
    """One step of a cycle the keeper took."""

    MINT_REQUESTED = "mint_requested"
    SOLD = "sold"
    BOUGHT = "bought"
    REDEEM_REQUESTED = "redeem_requested"


@dataclass(frozen=True, slots=True)
class ApAction:
    """A step the keeper took: the issuer request or the swap, and the prices it acted on.

    `tokens` and `usdc` are raw units: the tokens requested, sold or bought, and the USDC the swap
    paid or received (0 for a request).
    """

    ticker: str
    cycle: int
    kind: ApActionKind
    tokens: int
    usdc: int
    oracle_price: Price
    pool_price: Price
    request_id: str | None
    tx_hash: str | None


@dataclass(frozen=True, slots=True)
class ApReport:
    """What one tick did."""

    actions: tuple[ApAction, ...]
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True, slots=True)
class _Cycle:
    """The latest cycle of a ticker as the issuer's database records it."""

    number: int
    mint: RequestView | None
    redeem: RequestView | None
    swaps: tuple[ChainTransactionRow, ...]

    def swaps_named(self, step: str) -> list[ChainTransactionRow]:
        return [row for row in self.swaps if row.purpose.split(":")[-2] == step]


class AuthorisedParticipantKeeper:
    """Mint or redeem through `issuer` as AP `investor_id` whenever a pool leaves its fee band."""

    def __init__(
        self,
        issuer: Issuer,
        investor_id: str,
        wallet: str,
        chain: EvmChain,
        amm: AmmDeployment,
        feeds: Mapping[str, str],
        *,
        margin_bps: int = DEFAULT_MARGIN_BPS,
        max_notional: Usd,
        max_age: int = DEFAULT_MAX_AGE,
        slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
        deadline_seconds: int = DEFAULT_DEADLINE,
    ) -> None:
        check_ranges(
            ("margin_bps", margin_bps, 0, BPS - 1),
            ("slippage_bps", slippage_bps, 0, BPS - 1),
            ("max_age", max_age, 1, MAX_SECONDS),
            ("deadline_seconds", deadline_seconds, 1, MAX_SECONDS),
        )
        if max_notional.units <= 0:
            raise KeeperConfigError(f"max_notional must be positive, not {max_notional}")
        if not feeds:
            raise KeeperConfigError("the keeper needs at least one ticker's feed")
        if amm.chain_id != chain.chain_id or issuer.onchain.chain_id != chain.chain_id:
            raise KeeperConfigError(
                f"the AMM (chain {amm.chain_id}) and the issuer (chain {issuer.onchain.chain_id}) "
                f"must both be on chain {chain.chain_id}"
            )
        missing = sorted(set(feeds) - set(amm.pools))
        if missing:
            raise KeeperConfigError(f"no AMM pool for {', '.join(missing)}")
        unissued = sorted(set(feeds) - set(issuer.instruments))
        if unissued:
            raise KeeperConfigError(f"the issuer does not issue {', '.join(unissued)}")
        try:
            investor = issuer.investors.get(investor_id)
        except IssuerError as exc:
            raise KeeperConfigError(str(exc)) from None
        if investor.category != InvestorCategory.AUTHORISED_PARTICIPANT:
            raise KeeperConfigError(
                f"investor {investor_id} is {investor.category}, not an authorised participant"
            )
        if wallet not in chain.signers:
            raise KeeperConfigError(f"the keeper cannot sign for wallet {wallet}")
        self.issuer = issuer
        self.investor_id = investor_id
        self.wallet = chain.signers.get(wallet).address
        self.chain = chain
        self.amm = amm
        self.margin_bps = margin_bps
        self.max_notional = max_notional
        self.max_age = max_age
        self.slippage_bps = slippage_bps
        self.deadline_seconds = deadline_seconds
        feed_artifact = compile_contract("oracle/PriceFeed.vy")
        self._usdc = issuer.onchain.usdc
        if self._usdc.address.lower() != amm.usdc.lower():
            raise KeeperConfigError(
                f"the AMM trades against {amm.usdc}, the issuer is paid in {self._usdc.address}"
            )
        usdc_decimals = int(self._usdc.decimals())
        self._feeds = {
            ticker: chain.at(address, feed_artifact, f"{ticker} feed") for ticker, address in feeds.items()
        }
        self._pools = {ticker: amm.pool(chain, ticker) for ticker in feeds}
        self._stocks: dict[str, Contract] = {}
        self._scales: dict[str, int] = {}
        self._decimals: dict[str, int] = {}
        for ticker, pool in self._pools.items():
            stock = issuer.onchain.token(ticker)
            if str(pool.stock()) != stock.address or str(self._feeds[ticker].token()) != stock.address:
                raise KeeperConfigError(f"the pool or the feed given for {ticker} is for another token")
            self._stocks[ticker] = stock
            self._decimals[ticker] = issuer.instruments[ticker].token_decimals
            # Price units per (raw USDC / raw stock): 1e-8 dollars per whole token.
            self._scales[ticker] = 10 ** (PRICE_DECIMALS + self._decimals[ticker] - usdc_decimals)

    def tick(self) -> ApReport:
        """Resume or start one cycle per ticker and report what was done and what was refused."""
        # A swap signed before a restart holds a nonce: it must reach the node before anything new.
        self.issuer.onchain.outbox.rebroadcast(self.issuer.db)
        actions: list[ApAction] = []
        refusals: list[Refusal] = []
        for ticker in self._pools:
            try:
                action = self._step(ticker)
            except RefusedError as refused:
                _log.info("AP keeper leaves %s alone: %s (%s)", ticker, refused.detail, refused.reason)
                refusals.append(Refusal(ticker, refused.reason, refused.detail))
                continue
            if action is not None:
                _log.info("AP keeper on %s: %s", ticker, action)
                actions.append(action)
        return ApReport(tuple(actions), tuple(refusals))

    @property
    def tickers(self) -> tuple[str, ...]:
        """Return the tickers the keeper watches."""
        return tuple(self._pools)

    def pool_price(self, ticker: str) -> Price:
        """Return `ticker`'s pool price in the feed's units (0 for an empty pool)."""
        stock_reserve, usdc_reserve = self._reserves(ticker)
        return Price(usdc_reserve * self._scales[ticker] // stock_reserve if stock_reserve else 0)

    def _shares(self, ticker: str, tokens: int) -> Shares:
        """Return the shares `tokens` raw units stand for under the multiplier in force (rounded down).

        The feed's answer and the pool both price a raw unit, so only a request, which the issuer
        takes in shares, needs the multiplier.
        """
        multiplier = int(self._stocks[ticker].uiMultiplier())
        return TokenAmount(tokens, self._decimals[ticker]).shares(multiplier)

    def _prefix(self, ticker: str) -> str:
        return f"ap-keeper:{self.wallet}:{ticker}"

    def _reserves(self, ticker: str) -> tuple[int, int]:
        stock_reserve, usdc_reserve = (int(v) for v in self._pools[ticker].reserves())
        return stock_reserve, usdc_reserve

    def _latest_cycle(self, ticker: str) -> _Cycle | None:
        prefix = self._prefix(ticker) + ":"
        requests = [r for r in self.issuer.requests() if r.idempotency_key.startswith(prefix)]
        with self.issuer.db.transaction() as session:
            swaps = list(
                session.scalars(
                    select(ChainTransactionRow)
                    .where(ChainTransactionRow.purpose.startswith(prefix, autoescape=True))
                    .order_by(ChainTransactionRow.id)
                )
            )
            for row in swaps:
                session.expunge(row)
        numbers = [int(r.idempotency_key.split(":")[3]) for r in requests]
        numbers += [int(row.purpose.split(":")[3]) for row in swaps]
        if not numbers:
            return None
        latest = max(numbers)
        key = f"{prefix}{latest}:"
        mint = next((r for r in requests if r.idempotency_key == f"{key}mint"), None)
        redeem = next((r for r in requests if r.idempotency_key == f"{key}redeem"), None)
        return _Cycle(latest, mint, redeem, tuple(row for row in swaps if row.purpose.startswith(key)))

    def _step(self, ticker: str) -> ApAction | None:
        cycle = self._latest_cycle(ticker)
        if cycle is not None:
            if cycle.mint is not None and not self._sold(cycle):
                if not cycle.mint.state.is_final:
                    raise RefusedError(RefusalReason.IN_FLIGHT, f"mint {cycle.mint.id} is {cycle.mint.state}")
                if self._left_to_sell(ticker, cycle):
                    return self._sell_minted(ticker, cycle, cycle.mint)
            if cycle.mint is None and not self._redeemed(cycle):
                return self._redeem_bought(ticker, cycle)
        number = 1 if cycle is None else cycle.number + 1
        return self._start(ticker, number)

    def _left_to_sell(self, ticker: str, cycle: _Cycle) -> bool:
        """Return whether a sell is stored but unconfirmed, or minted tokens wait to be sold."""
        if any(row.status == TxStatus.SIGNED for row in cycle.swaps_named("sell")):
            return True
        assert cycle.mint is not None
        return min(cycle.mint.tokens_settled, int(self._stocks[ticker].balanceOf(self.wallet))) > 0

    @staticmethod
    def _sold(cycle: _Cycle) -> bool:
        return any(row.status == TxStatus.CONFIRMED for row in cycle.swaps_named("sell"))

    @staticmethod
    def _redeemed(cycle: _Cycle) -> bool:
        buys = cycle.swaps_named("buy")
        bought = any(row.status == TxStatus.CONFIRMED for row in buys)
        if cycle.redeem is not None:
            return cycle.redeem.state.is_final
        # A buy that reverted bought nothing: the cycle ends with nothing to redeem.
        return not bought and bool(buys) and all(row.status == TxStatus.FAILED for row in buys)

    def _open_round(self, ticker: str) -> OracleRound:
        try:
            found = read_safe_round(self._feeds[ticker], self.chain.timestamp("pending"), self.max_age)
        except UnsafeRoundError as unsafe:
            raise RefusedError(RefusalReason(unsafe.reason), unsafe.detail) from None
        if found.status != MarketStatus.OPEN:
            raise RefusedError(
                RefusalReason.MARKET_CLOSED,
                f"round {found.round_id} says the market is {found.status.name.lower()}: "
                "the issuer's broker could not fill at a price known now",
            )
        return found

    def _start(self, ticker: str, number: int) -> ApAction | None:
        latest = self._open_round(ticker)
        stock_reserve, usdc_reserve = self._reserves(ticker)
        if stock_reserve == 0 or usdc_reserve == 0:
            raise RefusedError(RefusalReason.EMPTY_POOL, "the pool has no liquidity")
        try:
            pool_fee = int(self._pools[ticker].fee_bps())
        except RevertError as exc:
            raise RefusedError(RefusalReason.POOL_REFUSED, f"the pool trades no swap now: {exc}") from None
        fees = self.issuer.config.fees_for(ticker)
        scale = self._scales[ticker]
        oracle = latest.answer
        band = fees.bps + pool_fee + self.margin_bps
        high = -(-oracle * (BPS + band) // BPS)
        low = oracle * max(BPS - band, 1) // BPS
        if usdc_reserve * scale > high * stock_reserve:
            return self._mint(ticker, number, latest, stock_reserve, usdc_reserve, pool_fee, band)
        if usdc_reserve * scale < low * stock_reserve:
            return self._buy(ticker, number, latest, stock_reserve, usdc_reserve, pool_fee, band)
        return None

    def _notional(self, ticker: str, tokens: int, price: int) -> int:
        return tokens * price // self._scales[ticker]

    def _with_flat_fee(self, ticker: str, tokens: int, oracle: int, band: int) -> int:
        """Return `band` widened by the flat fee as basis points of `tokens`' notional."""
        notional = self._notional(ticker, tokens, oracle)
        flat = self.issuer.config.fees_for(ticker).flat.units
        return band + (-(-flat * BPS // notional) if notional else BPS)

    def _mint(
        self,
        ticker: str,
        number: int,
        latest: OracleRound,
        stock_reserve: int,
        usdc_reserve: int,
        pool_fee: int,
        band: int,
    ) -> ApAction | None:
        oracle, scale = latest.answer, self._scales[ticker]
        cap = self.max_notional.units * scale // oracle
        tokens = 0
        # Once with the bps alone, then with the flat fee spread over that first size.
        for width in (band, None):
            edge = width if width is not None else self._with_flat_fee(ticker, tokens, oracle, band)
            target = -(-oracle * (BPS + edge) // BPS)
            tokens = min(input_to_price(stock_reserve, usdc_reserve, pool_fee, target, scale), cap)
        proceeds = amount_out(tokens, stock_reserve, usdc_reserve, pool_fee)
        fees = self.issuer.config.fees_for(ticker)
        notional = self._notional(ticker, tokens, oracle)
        cost = notional * (BPS + fees.bps + self.margin_bps) // BPS + fees.flat.units
        if tokens == 0 or proceeds <= cost:
            return None
        if Usd(notional) < self.issuer.config.min_order:
            raise RefusedError(
                RefusalReason.TOO_SMALL,
                f"a mint of {notional} USDC units is below the issuer's minimum order of "
                f"{self.issuer.config.min_order}",
            )
        operator = self.issuer.onchain.roles.operator
        if int(self._usdc.allowance(self.wallet, operator)) < _UNLIMITED // 2:
            self._usdc.approve(operator, _UNLIMITED, sender=self.wallet)
        quantity = self._shares(ticker, tokens)
        try:
            request = self.issuer.request_mint(
                self.investor_id, self.wallet, ticker, quantity, f"{self._prefix(ticker)}:{number}:mint"
            )
        except IssuerError as exc:
            raise RefusedError(RefusalReason.ISSUER_REFUSED, f"the issuer refused the mint: {exc}") from None
        return ApAction(
            ticker,
            number,
            ApActionKind.MINT_REQUESTED,
            tokens,
            0,
            Price(oracle),
            self.pool_price(ticker),
            request.id,
            None,
        )

    def _buy(
        self,
        ticker: str,
        number: int,
        latest: OracleRound,
        stock_reserve: int,
        usdc_reserve: int,
        pool_fee: int,
        band: int,
    ) -> ApAction | None:
        oracle, scale = latest.answer, self._scales[ticker]
        spend = 0
        for width in (band, None):
            bought = amount_out(spend, usdc_reserve, stock_reserve, pool_fee)
            edge = width if width is not None else self._with_flat_fee(ticker, bought, oracle, band)
            target = oracle * max(BPS - edge, 1) // BPS
            spend = min(
                input_to_price(usdc_reserve, stock_reserve, pool_fee, scale, target), self.max_notional.units
            )
        if not self._redeem_pays(
            ticker, spend, amount_out(spend, usdc_reserve, stock_reserve, pool_fee), oracle
        ):
            return None
        balance = int(self._usdc.balanceOf(self.wallet))
        if balance == 0:
            raise RefusedError(RefusalReason.NO_FUNDS, f"wallet {self.wallet} holds no USDC to buy with")
        spend = min(spend, balance)
        tokens = amount_out(spend, usdc_reserve, stock_reserve, pool_fee)
        if not self._redeem_pays(ticker, spend, tokens, oracle):
            return None
        notional = self._notional(ticker, tokens, oracle)
        # The redemption must clear the issuer's minimum even if the price dips before it is quoted.
        if Usd(notional) < self.issuer.config.min_order + self.issuer.config.min_order:
            raise RefusedError(
                RefusalReason.TOO_SMALL,
                f"a redemption of {notional} USDC units is too close to the issuer's minimum order "
                f"of {self.issuer.config.min_order}",
            )
        pool = self._pools[ticker]
        self._approve(self._usdc, pool.address, spend)
        purpose = f"{self._prefix(ticker)}:{number}:buy:1"
        outcome = self._swap(ticker, purpose, spend, tokens, stock_in=False)
        received = self._received(ticker, outcome)
        return ApAction(
            ticker,
            number,
            ApActionKind.BOUGHT,
            received,
            spend,
            Price(oracle),
            self.pool_price(ticker),
            None,
            outcome.tx_hash,
        )

    def _redeem_pays(self, ticker: str, spend: int, tokens: int, oracle: int) -> bool:
        """Return whether redeeming `tokens` bought for `spend` USDC units pays at least the margin."""
        fees = self.issuer.config.fees_for(ticker)
        notional = self._notional(ticker, tokens, oracle)
        proceeds = notional * (BPS - fees.bps - self.margin_bps) // BPS - fees.flat.units
        return tokens > 0 and proceeds > spend

    def _sell_minted(self, ticker: str, cycle: _Cycle, mint: RequestView) -> ApAction | None:
        pending = [row for row in cycle.swaps_named("sell") if row.status == TxStatus.SIGNED]
        sells = cycle.swaps_named("sell")
        balance = int(self._stocks[ticker].balanceOf(self.wallet))
        tokens = min(mint.tokens_settled, balance)
        if pending:
            purpose = pending[0].purpose
            tokens = 0  # the stored transaction carries its own amount
        else:
            purpose = f"{self._prefix(ticker)}:{cycle.number}:sell:{len(sells) + 1}"
        stock_reserve, usdc_reserve = self._reserves(ticker)
        pool_fee = int(self._pools[ticker].fee_bps())
        expected = amount_out(tokens, stock_reserve, usdc_reserve, pool_fee) if tokens else 0
        self._approve(self._stocks[ticker], self._pools[ticker].address, tokens)
        outcome = self._swap(ticker, purpose, tokens, expected, stock_in=True)
        received = self._received(ticker, outcome)
        oracle = Price(int(self._feeds[ticker].latestRoundStatus()[1]))
        return ApAction(
            ticker,
            cycle.number,
            ApActionKind.SOLD,
            self._sent(ticker, outcome),
            received,
            oracle,
            self.pool_price(ticker),
            mint.id,
            outcome.tx_hash,
        )

    def _redeem_bought(self, ticker: str, cycle: _Cycle) -> ApAction | None:
        if cycle.redeem is not None:
            raise RefusedError(
                RefusalReason.IN_FLIGHT, f"redemption {cycle.redeem.id} is {cycle.redeem.state}"
            )
        buys = cycle.swaps_named("buy")
        pending = [row for row in buys if row.status == TxStatus.SIGNED]
        if pending:
            outcome = self._swap(ticker, pending[0].purpose, 0, 0, stock_in=False)
            if not outcome.confirmed:
                return None
        confirmed = next(row for row in cycle.swaps_named("buy") if row.status != TxStatus.FAILED)
        latest = self._open_round(ticker)
        receipt = self.chain.receipt(confirmed.tx_hash)
        if receipt is None:
            raise RefusedError(RefusalReason.IN_FLIGHT, f"buy {confirmed.tx_hash} is not mined yet")
        swapped = next(e for e in self._pools[ticker].decode_logs(receipt) if e.name == "Swap")
        tokens = min(int(swapped.args["amount_out"]), int(self._stocks[ticker].balanceOf(self.wallet)))
        self._approve(self._stocks[ticker], self.issuer.onchain.roles.burner, tokens)
        quantity = self._shares(ticker, tokens)
        try:
            request = self.issuer.request_redeem(
                self.investor_id,
                self.wallet,
                ticker,
                quantity,
                f"{self._prefix(ticker)}:{cycle.number}:redeem",
            )
        except IssuerError as exc:
            raise RefusedError(
                RefusalReason.ISSUER_REFUSED, f"the issuer refused the redemption: {exc}"
            ) from None
        return ApAction(
            ticker,
            cycle.number,
            ApActionKind.REDEEM_REQUESTED,
            tokens,
            0,
            Price(latest.answer),
            self.pool_price(ticker),
            request.id,
            None,
        )

    def _approve(self, token: Contract, spender: str, amount: int) -> None:
        if int(token.allowance(self.wallet, spender)) < max(amount, 1):
            token.approve(spender, _UNLIMITED, sender=self.wallet)

    def _swap(
        self, ticker: str, purpose: str, amount_in: int, expected_out: int, *, stock_in: bool
    ) -> TxOutcome:
        pool = self._pools[ticker]
        min_out = expected_out * (BPS - self.slippage_bps) // BPS
        deadline = self.chain.timestamp("pending") + self.deadline_seconds
        try:
            outcome = self.issuer.onchain.outbox.run(
                self.issuer.db,
                purpose,
                pool.swap,
                (amount_in, min_out, stock_in, self.wallet, deadline),
                sender=self.wallet,
                owner="authorised-participant-keeper",
                now=self.issuer.clock.now,
                record=lambda _session, _outcome: None,
            )
        except RevertError as exc:
            raise RefusedError(RefusalReason.POOL_REFUSED, f"the swap would revert: {exc}") from None
        if outcome.failed:
            raise RefusedError(RefusalReason.POOL_REFUSED, f"{purpose} reverted: {outcome.error}")
        return outcome

    def _swap_event(self, ticker: str, outcome: TxOutcome) -> Mapping[str, object]:
        receipt = self.chain.receipt(outcome.tx_hash)
        if receipt is None:
            raise RefusedError(RefusalReason.IN_FLIGHT, f"swap {outcome.tx_hash} is not mined yet")
        return next(e for e in self._pools[ticker].decode_logs(receipt) if e.name == "Swap").args

    def _received(self, ticker: str, outcome: TxOutcome) -> int:
        return int(str(self._swap_event(ticker, outcome)["amount_out"]))

    def _sent(self, ticker: str, outcome: TxOutcome) -> int:
        return int(str(self._swap_event(ticker, outcome)["amount_in"]))
