"""The order-book exchange of a local platform: its rules, the oracle status it trades under, and its
journals in `<data_dir>/exchange`.

Every token the venues trade gets a book: $0.01 ticks, lots of 10^-4 share (the smallest lot whose
tick times lot is a whole USDC unit), no maker fee and a 10 bps taker fee, $1 minimum notional. The
engine asks for each instrument's market status on every command; `FeedStatuses` answers from the
feeds' latest rounds as last read by the loop, so no command waits on the node.

Trades go on the venue tape in shares: `TokenMultipliers` gives the exchange each token's UI
multiplier in force at a trade's time, read from the token (`uiMultiplierAt`) on the chain the
feeds are read from (the node's time follows the market clock, so trade times and block times agree).

The exchange's hot wallet is dev wallet 17 (the demo's wallets 10-15 belong to investors and 18 to
the authorised-participant keeper), owned by the venue operator that `register_hot_wallet` onboards
on the first run. Before each new order the engine asks `RegistryEligibility`: members only, and a
buy of a `permissioned` token only from a member with a registered wallet.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.issuer.catalogue import load_catalogue
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Price
from equitoken.model.time import Clock, require_aware
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.trades import VenueTradeBook
from equitoken.platform.local import ACCOUNTS, venue_tickers
from equitoken.venues.exchange.engine import Eligibility, Exchange
from equitoken.venues.exchange.ledger import ledger_rules
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec

EXCHANGE_DIR = "exchange"
TICK = Price(1_000_000)  # $0.01
LOT_SHARE_DIGITS = 4  # a lot is 10^-4 share
MAKER_FEE_BPS = 0
TAKER_FEE_BPS = 10
HOT_WALLET_ACCOUNT = 17
HOT_WALLET_JURISDICTION = "GB"


def hot_wallet() -> str:
    """Return the exchange's hot wallet, where members send their deposits."""
    return SignerRegistry.anvil(ACCOUNTS).addresses[HOT_WALLET_ACCOUNT]


def permissioned_tickers(issuance: IssuanceDeployment, tickers: Sequence[str]) -> list[str]:
    """Return those of `tickers` whose token has the `permissioned` compliance profile."""
    return [ticker for ticker in tickers if issuance.instrument(ticker).profile == "permissioned"]


def exchange_rules(issuance: IssuanceDeployment) -> list[BookRules]:
    """Return the book rules of every instrument the exchange trades."""
    catalogue = {instrument.ticker: instrument for instrument in load_catalogue()}
    rules = []
    for ticker in venue_tickers(issuance):
        decimals = catalogue[ticker].token_decimals
        lot = 10 ** max(0, decimals - LOT_SHARE_DIGITS)
        rules.append(BookRules(InstrumentSpec(ticker, decimals, TICK, lot), MAKER_FEE_BPS, TAKER_FEE_BPS))
    return rules


class FeedStatuses:
    """The market status of each instrument from its price feed's latest round, read by `refresh`.

    Before a feed's first round, and for a round that cannot be read, the status is HALTED: with no
    reference price the exchange takes no new orders (cancels still go through).
    """

    def __init__(self, chain: EvmChain, issuance: IssuanceDeployment, tickers: Sequence[str]) -> None:
        self.chain = chain
        artifact = compile_contract("oracle/PriceFeed.vy")
        self._feeds = {
            ticker: chain.at(issuance.instrument(ticker).price_feed, artifact, f"{ticker} feed")
            for ticker in tickers
        }
        self._statuses = dict.fromkeys(tickers, MarketStatus.HALTED)

    def __call__(self, ticker: str) -> MarketStatus:
        return self._statuses[ticker]

    def refresh(self) -> list[str]:
        """Read every feed's latest round; return a line for each status that changed."""
        changes = []
        for ticker, feed in self._feeds.items():
            try:
                status = MarketStatus(int(feed.latestRoundStatus()[5]))
            except RevertError:
                status = MarketStatus.HALTED
            if status != self._statuses[ticker]:
                changes.append(f"exchange: {ticker} {self._statuses[ticker].name} -> {status.name}")
                self._statuses[ticker] = status
        return changes


class TokenMultipliers:
    """Each token's UI multiplier in force at a time (a `MultiplierAt`), from its `uiMultiplierAt`."""

    def __init__(self, chain: EvmChain, tokens: Mapping[str, str]) -> None:
        artifact = compile_contract("token/StockToken.vy")
        self._tokens = {ticker: chain.at(address, artifact, ticker) for ticker, address in tokens.items()}

    def __call__(self, ticker: str, at: datetime) -> Multiplier:
        # On-chain times are whole seconds: a multiplier effective at t is in force from t on.
        timestamp = int(require_aware(at, "trade time").timestamp())
        return Multiplier(int(self._tokens[ticker].uiMultiplierAt(timestamp)))


def open_exchange(
    data_dir: Path,
    issuance: IssuanceDeployment,
    statuses: FeedStatuses,
    tape: VenueTradeBook,
    clock: Clock,
    *,
    eligibility: Eligibility | None = None,
) -> Exchange:
    """Open the exchange kept in `<data_dir>/exchange`, replaying its journals: a book per token and one
    per ledger stock (`<T>.L`, balances the ledger desk buys through the issuer)."""
    rules = exchange_rules(issuance)
    tokens = {r.instrument.symbol: issuance.instrument(r.instrument.symbol).token for r in rules}
    return Exchange.open(
        data_dir / EXCHANGE_DIR,
        rules + [ledger_rules(ticker) for ticker in tokens],
        statuses,
        tape=tape,
        clock=clock,
        eligibility=eligibility,
        multipliers=TokenMultipliers(statuses.chain, tokens),
    )
