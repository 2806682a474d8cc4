"""Ledger balances follow the instrument's splits: when the issuer's custody step of a split (or
reverse split) has scaled custody's ledger allocation (`ledger:<T>`, with every share account; see
`issuer.corporate_actions.multiplier_actions`), every account's balance of `<T>.L` is scaled by the same
ratio, so a holder of ledger stock keeps the value a token holder keeps. They are scaled once the split
is in effect (its `effective_at`, when the shares start trading on the new basis and the tokens'
multiplier changes): until then custody's allocation, already scaled, over-covers them.

Open orders in the `<T>.L` book are cancelled first (their prices and quantities are the old shares');
then each account is credited (a split) or debited (a reverse split) the difference, rounded down, each
under its own transfer id (`ledger-split:<action>:<account>`), which the accounts apply once. The
split's row (`exchange_ledger_splits`) is written last: a pass killed before it runs again and finds each
account's transfer already applied. What rounding leaves over stays in custody as the issuer's surplus,
so custody's allocation is never below the balances.
"""

from sqlalchemy import select

from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import CorporateActionRow, ExchangeLedgerSplitRow, LedgerEntryRow
from equitoken.venues.exchange.accounts import FEES_ACCOUNT
from equitoken.venues.exchange.ledger_assets import ledger_asset
from equitoken.venues.exchange.orders import Cancel
from equitoken.venues.exchange.venue import ExchangeVenue

SPLIT_KINDS = ("split", "reverse_split")


def follow_splits(
    database: Database, venue: ExchangeVenue, tickers: tuple[str, ...], clock: Clock
) -> list[str]:
    """Scale the ledger balances of every split custody has followed and they have not; return what was
    done, a line per split."""
    if not tickers:
        return []
    with database.transaction() as session:
        followed = set(session.scalars(select(ExchangeLedgerSplitRow.action_id)))
        actions = [
            (a.id, a.ticker, a.ratio_new, a.ratio_old, a.effective_at)
            for a in session.scalars(
                select(CorporateActionRow)
                .where(CorporateActionRow.kind.in_(SPLIT_KINDS), CorporateActionRow.ticker.in_(tickers))
                .order_by(CorporateActionRow.effective_at, CorporateActionRow.id)
            )
            if a.id not in followed
        ]
        custody_steps = set(
            session.scalars(
                select(LedgerEntryRow.cause).where(
                    LedgerEntryRow.cause.in_([f"ca:{a[0]}:custody" for a in actions])
                )
            )
        )
    done = []
    for action_id, ticker, new, old, effective_at in actions:
        if f"ca:{action_id}:custody" not in custody_steps or clock.now() < effective_at:
            continue  # custody has not moved yet, or the shares trade on the old basis still
        asset = ledger_asset(ticker)
        _cancel_book(venue, asset)
        holdings = venue.holdings(asset)
        for account, balance in sorted(holdings.items()):
            if account == FEES_ACCOUNT:
                continue  # the venue's fees are charged in USDC: it holds no ledger stock to scale
            delta = balance.total * new // old - balance.total
            transfer_id = f"ledger-split:{action_id}:{account}"
            if delta > 0:
                venue.credit(account, asset, delta, transfer_id)
            elif delta < 0:
                venue.debit(account, asset, -delta, transfer_id)
        with database.transaction() as session:
            session.add(
                ExchangeLedgerSplitRow(
                    action_id=action_id, ticker=ticker, accounts=len(holdings), applied_at=clock.now()
                )
            )
        done.append(
            f"exchange ledger: {asset} balances of {len(holdings)} accounts x {new}/{old} ({action_id})"
        )
    return done


def _cancel_book(venue: ExchangeVenue, asset: str) -> None:
    accounts = {account for (account, _asset) in venue.exchange.accounts.balances()}
    for account in sorted(accounts):
        for order in venue.open_orders(account, asset).get(asset, []):
            venue.cancel(asset, Cancel(account, order.order_id))
