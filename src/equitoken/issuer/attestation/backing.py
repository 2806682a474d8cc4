"""The backing of attestation issuance, ticker by ticker, told honestly while hedges are open.

An attestation mint delivers tokens at once from the inventory (shares already in custody that back no
token) and buys the shares back afterwards; a redemption takes tokens back at once and sells the shares
afterwards. So custody >= tokens outstanding holds throughout (the token's reserve gate enforces it on
every mint), but until a hedge lands the issuer carries a position: the report says how many shares
are still to buy or sell and what they are worth at the market now.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from equitoken.issuer.attestation.states import HedgeKind, HedgeState
from equitoken.issuer.chains import TokenChain, outstanding
from equitoken.issuer.custody import CustodyLedger, surplus_account
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.store.database import Database
from equitoken.store.schema import AttestationQuoteRow


@dataclass(frozen=True)
class TickerBacking:
    """One ticker: custody against tokens, the inventory against its target, and the open hedge."""

    ticker: str
    # Shares in custody that back tokens (the ledger; less the issuer's fee shares).
    custody: Shares
    # Tokens outstanding on every chain times their multiplier, in shares (read from the chains).
    outstanding: Shares
    # The inventory as the ledger books it (surplus:<ticker>): equal to custody - outstanding when
    # no other flow is between its steps.
    ledger_inventory: Shares
    target: Shares
    # Open hedges: shares still to buy (mints, restocks) and to sell (redemptions).
    to_buy: Shares
    to_sell: Shares
    # Signed quotes not yet used on-chain (they may still be), by side.
    quoted_buy: Shares
    quoted_sell: Shares
    # The market price now and the dollars of the open hedges at it: the position the issuer carries.
    price: Price | None
    usd_at_risk: Usd
    # What the inventory and its flows brought in less what they cost (surplus:<ticker> in USD): the
    # purchase of the inventory counts against it, so this is the hedging result less its cost.
    net_usd: Usd

    @property
    def inventory(self) -> Shares:
        """Return custody not backing any token: what attestation mints may draw now."""
        return self.custody - self.outstanding

    @property
    def backed(self) -> bool:
        """Return whether custody covers every token outstanding."""
        return self.custody >= self.outstanding


@dataclass(frozen=True)
class BackingReport:
    """Every ticker with a minter, at one instant."""

    at: datetime
    tickers: tuple[TickerBacking, ...]

    @property
    def backed(self) -> bool:
        return all(t.backed for t in self.tickers)

    def ticker(self, ticker: str) -> TickerBacking:
        """Return the line of `ticker`."""
        for line in self.tickers:
            if line.ticker == ticker:
                return line
        raise KeyError(f"no attestation backing for {ticker}")


def backing_report(
    database: Database,
    chains: Sequence[TokenChain],
    instruments: Mapping[str, Instrument],
    tickers: Sequence[str],
    targets: Mapping[str, Shares],
    prices: PriceSource,
    at: datetime,
) -> BackingReport:
    """Read custody and the hedges from the database and tokens outstanding from every chain."""
    ledger = CustodyLedger()
    lines = []
    for ticker in sorted(tickers):
        decimals = instruments[ticker].token_decimals
        issued = sum(
            (outstanding(chain, ticker, decimals) for chain in chains if ticker in chain.tickers),
            Shares.zero(),
        )
        to_buy = to_sell = quoted_buy = quoted_sell = 0
        with database.transaction() as session:
            custody = Shares(ledger.backing(session, ticker))
            booked = Shares(-ledger.balance(session, surplus_account(ticker), ticker))
            net = Usd(-ledger.balance(session, surplus_account(ticker), "USD"))
            rows = session.execute(
                select(
                    AttestationQuoteRow.kind,
                    AttestationQuoteRow.state,
                    AttestationQuoteRow.shares,
                    AttestationQuoteRow.filled_shares,
                ).where(
                    AttestationQuoteRow.ticker == ticker,
                    AttestationQuoteRow.state.not_in([HedgeState.HEDGED.value, HedgeState.EXPIRED.value]),
                )
            ).all()
        for kind, state, shares, filled in rows:
            sells = kind == HedgeKind.REDEEM
            if state == HedgeState.QUOTED:
                quoted_sell += shares if sells else 0
                quoted_buy += 0 if sells else shares
            elif sells:
                to_sell += shares - filled
            else:
                to_buy += shares - filled
        try:
            price: Price | None = prices.quote(ticker, at).price
        except NoPriceError:
            price = None
        at_risk = Usd.zero() if price is None else price.notional(Shares(to_buy + to_sell), round_up=True)
        lines.append(
            TickerBacking(
                ticker=ticker,
                custody=custody,
                outstanding=issued,
                ledger_inventory=booked,
                target=targets.get(ticker, Shares.zero()),
                to_buy=Shares(to_buy),
                to_sell=Shares(to_sell),
                quoted_buy=Shares(quoted_buy),
                quoted_sell=Shares(quoted_sell),
                price=price,
                usd_at_risk=at_risk,
                net_usd=net,
            )
        )
    return BackingReport(at, tuple(lines))
