"""Compare custody with the tokens outstanding on every chain, instrument by instrument, and with the
exchange's ledger stock balances (shares held in exchange accounts only, with no token)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from equitoken.issuer.chains import TokenChain, bridging
from equitoken.issuer.custody import CustodyLedger
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Shares
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database


@dataclass(frozen=True)
class Holding:
    """One instrument: shares in custody against what its tokens stand for on every chain."""

    ticker: str
    # Custody less the shares the issuer owns as fees: what backs the tokens and the ledger balances.
    custody: Shares
    # Per chain id: tokens outstanding times the UI multiplier, in shares.
    outstanding: Mapping[int, Shares]
    # Per destination chain id: tokens bridged there, burned at their source and not minted yet.
    in_flight: Mapping[int, Shares] = field(default_factory=dict)
    # The exchange's ledger balances of the instrument (every account, available and locked).
    ledger: Shares = field(default_factory=Shares.zero)

    @property
    def outstanding_total(self) -> Shares:
        return sum(self.outstanding.values(), Shares.zero())

    @property
    def in_flight_total(self) -> Shares:
        return sum(self.in_flight.values(), Shares.zero())

    @property
    def surplus(self) -> Shares:
        return self.custody - self.outstanding_total - self.in_flight_total - self.ledger

    @property
    def backed(self) -> bool:
        return self.surplus.units >= 0


@dataclass(frozen=True)
class Reconciliation:
    """The result of a reconciliation: every instrument, and whether the ledger balances."""

    holdings: tuple[Holding, ...]
    trial_balance: Mapping[str, int]

    @property
    def ok(self) -> bool:
        return all(h.backed for h in self.holdings) and not any(self.trial_balance.values())


def reconcile(
    database: Database,
    chains: Sequence[TokenChain],
    instruments: Mapping[str, Instrument],
    ledger_balances: Mapping[str, Shares] | None = None,
) -> Reconciliation:
    """Read custody from the ledger and supply and multiplier from each chain, for every instrument;
    `ledger_balances` gives the exchange's ledger balances per ticker (none when not given)."""
    ledger = CustodyLedger()
    balances = {t: s for t, s in (ledger_balances or {}).items() if s.units}
    unknown = sorted(set(balances) - set(instruments))
    if unknown:
        raise ValueError(f"ledger balances of {unknown} name no instrument the issuer holds")
    tickers = sorted({t for chain in chains for t in chain.tickers} | set(balances))
    with database.transaction() as session:
        custody = {
            t: Shares(ledger.backing(session, t) + ledger.ledger_allocation(session, t)) for t in tickers
        }
        trial = ledger.trial_balance(session)
    holdings = []
    for ticker in tickers:
        decimals = instruments[ticker].token_decimals
        outstanding, in_flight = {}, {}
        for chain in chains:
            if ticker in chain.tickers:
                supply = TokenAmount(chain.supply(ticker), decimals)
                outstanding[chain.chain_id] = supply.shares(chain.multiplier(ticker))
                with database.transaction() as session:
                    bridged = bridging(session, chain, ticker, decimals)
                if bridged.units:
                    in_flight[chain.chain_id] = bridged
        ledger_shares = balances.get(ticker, Shares.zero())
        holdings.append(Holding(ticker, custody[ticker], outstanding, in_flight, ledger_shares))
    return Reconciliation(tuple(holdings), trial)
