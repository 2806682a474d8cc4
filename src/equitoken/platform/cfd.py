"""The CFD venue of a local platform: contracts for difference on every ticker the venues trade,
journaled beside the order book's journals and priced from the tokens' price feeds.

`open_cfd` starts the venue from `<data_dir>/exchange/cfd.journal`, or replays it. A journal keeps
the instruments it was created with, so a later run with other instruments continues the recorded
ones. `cfd-listing.json` records each token's UI multiplier when the venue was created.

`CfdFeeder.tick` keeps the venue in step with the chain, in this order:
1. splits: a CFD is on shares, so when a token's UI multiplier has moved since the listing by more
   than the splits the venue has applied (`CfdEngine.split_ratio`), the difference is applied as
   one split. The ratio is derived from the chain and the journal alone, so a restart neither
   repeats a split nor misses one;
2. prices: each feed's latest round, as a share price (the feed answers the token price, the share
   price times the multiplier in force when it was observed), skipping a round observed before the
   multiplier now in force (the venue has already moved to post-split shares);
3. financing: once the calendar's latest session has closed, its overnight financing is charged.
"""

import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.market.calendar import MarketCalendar
from equitoken.model.time import Clock
from equitoken.oracle.observation import MarketStatus
from equitoken.platform.exchange import EXCHANGE_DIR
from equitoken.platform.local import venue_tickers
from equitoken.venues.cfd.errors import CfdError, FinancingAlreadyChargedError
from equitoken.venues.cfd.instruments import CfdInstrument
from equitoken.venues.cfd.journal import read_cfd_journal
from equitoken.venues.cfd.venue import CfdVenue

CFD_JOURNAL = "cfd.journal"
LISTING_FILE = "cfd-listing.json"
WAD = 10**18

_log = logging.getLogger(__name__)


def open_cfd(
    data_dir: Path, issuance: IssuanceDeployment, clock: Clock, calendar: MarketCalendar
) -> CfdVenue:
    """Return the CFD venue kept in `<data_dir>/exchange`, with an instrument per ticker the venues trade
    (the recorded ones if the journal exists)."""
    path = data_dir / EXCHANGE_DIR / CFD_JOURNAL
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        instruments = read_cfd_journal(path).instruments
    else:
        instruments = tuple(CfdInstrument(ticker) for ticker in venue_tickers(issuance))
    return CfdVenue.start(path, instruments, clock, calendar=calendar)


def listing_multipliers(
    chain: EvmChain, issuance: IssuanceDeployment, venue: CfdVenue, data_dir: Path
) -> dict[str, int]:
    """Return each instrument's UI multiplier at the venue's listing, recording them on the first call."""
    path = data_dir / LISTING_FILE
    recorded: dict[str, int] = json.loads(path.read_text()) if path.is_file() else {}
    missing = [symbol for symbol in venue.engine.instruments if symbol not in recorded]
    if missing:
        tokens = _tokens(chain, issuance, missing)
        recorded.update({symbol: int(token.uiMultiplier()) for symbol, token in tokens.items()})
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(recorded, indent=2, sort_keys=True))
        partial.replace(path)
    return recorded


class CfdFeeder:
    """Apply splits, prices and session closes from the chain and the calendar to the CFD venue."""

    def __init__(
        self,
        venue: CfdVenue,
        chain: EvmChain,
        issuance: IssuanceDeployment,
        listing: Mapping[str, int],
        clock: Clock,
    ) -> None:
        symbols = list(venue.engine.instruments)
        self.venue = venue
        self.clock = clock
        self.listing = dict(listing)
        self._tokens = _tokens(chain, issuance, symbols)
        feed = compile_contract("oracle/PriceFeed.vy")
        self._feeds = {s: chain.at(issuance.instrument(s).price_feed, feed, f"{s} feed") for s in symbols}
        self._fed: dict[str, int] = {}
        self._charged: str | None = None

    def tick(self) -> list[str]:
        """Bring the venue up to date; return a line for each split, stop-out and financing charge."""
        lines: list[str] = []
        now = self.clock.now()
        for symbol in self._feeds:
            try:
                multiplier = int(self._tokens[symbol].uiMultiplierAt(int(now.timestamp())))
                lines += self._split(symbol, multiplier)
                self._price(symbol, multiplier)
            except RevertError as error:  # no round yet, or a node that lost the contract
                _log.debug("cfd: %s not priced: %s", symbol, error)
        lines += self._financing(now)
        return lines

    def _split(self, symbol: str, multiplier: int) -> list[str]:
        wanted = _reduced(multiplier, self.listing[symbol])
        applied = self.venue.engine.split_ratio(symbol)
        if wanted == applied:
            return []
        new, old = _reduced(wanted[0] * applied[1], wanted[1] * applied[0])
        self.venue.on_split(symbol, new, old)
        return [f"cfd: {symbol} split {new} for {old}: positions resized"]

    def _price(self, symbol: str, multiplier: int) -> None:
        _, answer, observed_at, _, _, status = (int(v) for v in self._feeds[symbol].latestRoundStatus())
        if answer <= 0 or observed_at <= self._fed.get(symbol, 0):
            return
        if int(self._tokens[symbol].uiMultiplierAt(observed_at)) != multiplier:
            return  # observed before the split now in force: a pre-split share price
        self._fed[symbol] = observed_at
        try:
            events = self.venue.on_price(
                symbol,
                answer * WAD // multiplier,
                MarketStatus(status),
                datetime.fromtimestamp(observed_at, UTC),
            )
        except CfdError as error:  # e.g. a round older than the venue's last mark, after a restart
            _log.debug("cfd: %s round at %d not taken: %s", symbol, observed_at, error)
            return
        for event in events:
            _log.info("cfd: %s", event)

    def _financing(self, now: datetime) -> list[str]:
        session = self.venue.engine.calendar.previous_session(now)
        if session is None or session.date.isoformat() == self._charged:
            return []
        self._charged = session.date.isoformat()
        try:
            events = self.venue.on_session_close(now)
        except FinancingAlreadyChargedError:
            return []
        return [f"cfd: financing of the session of {self._charged} charged ({len(events)} events)"]


def _tokens(chain: EvmChain, issuance: IssuanceDeployment, symbols: list[str]) -> dict[str, Contract]:
    artifact = compile_contract("token/StockToken.vy")
    return {s: chain.at(issuance.instrument(s).token, artifact, s) for s in symbols}


def _reduced(new: int, old: int) -> tuple[int, int]:
    common = math.gcd(new, old)
    return new // common, old // common
