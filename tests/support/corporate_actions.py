"""The corporate actions' test platform: the real issuer with its corporate-actions service
(`ActionsPlatform`), helpers that move the market clock and the chain's clock together, and the
builder the `build` fixture hands to tests (`Build`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.support.platform import USDC, Platform

from equitoken.issuer.corporate_actions import CorporateActions
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares

TOKEN_UNIT = 10**8  # the catalogue's tokens have 8 decimals
ONE = 10**18


@dataclass
class ActionsPlatform:
    """The issuer's platform and its corporate actions."""

    platform: Platform
    actions: CorporateActions
    calendar: MarketCalendar
    prices: ReplayPriceSource

    def at(self, when: datetime) -> None:
        """Move the market clock, which the chain follows, to `when`."""
        self.platform.clock.set(when)

    def mint(self, ticker: str, quantity: str, key: str) -> None:
        """Mint tokens to the participant through the real workflow (broker fills on replayed prices)."""
        self.platform.approve_mint(10**6 * USDC)
        request = self.platform.issuer.request_mint(
            self.platform.participant.id, self.platform.wallet, ticker, quantity, key
        )
        self.platform.run()
        assert self.platform.issuer.request(request.id).state is RequestState.COMPLETED

    def process(self, max_rounds: int = 50) -> None:
        """Process until nothing moves, letting time pass for a multiplier scheduled just ahead."""
        waited = False
        for _ in range(max_rounds):
            if self.actions.process():
                waited = False
                continue
            if waited:
                return
            # A multiplier that takes effect "at once" is scheduled a few seconds ahead (the time its
            # transaction may take to be mined): let both clocks reach it, as they would in `up`.
            self.at(
                self.platform.clock.now() + timedelta(seconds=self.actions.config.multiplier_lead_seconds)
            )
            waited = True
        raise AssertionError("corporate actions still moving after 50 rounds")

    def backed_exactly(self, ticker: str) -> tuple[Shares, Shares]:
        """Return (custody, tokens x multiplier) for `ticker`; assert the reconciliation is ok."""
        reconciliation = self.platform.issuer.reconcile()
        assert reconciliation.ok, reconciliation
        holding = next(h for h in reconciliation.holdings if h.ticker == ticker)
        return holding.custody, holding.outstanding_total


Build = Callable[..., ActionsPlatform]
