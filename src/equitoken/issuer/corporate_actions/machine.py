"""What every corporate action's steps share: the action as a durable row, its clock and chain times, and
the two steps every kind ends with: the multiplier scheduled on the token, then the reserve attested."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.outbox import TxStatus
from equitoken.durable.steps import CallOutbox, StepMachine
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.corporate_actions.holders import HolderSource, last_block_before
from equitoken.issuer.corporate_actions.model import (
    ActionKind,
    ActionState,
    CorporateActionsConfig,
    DividendPolicy,
    InstrumentPolicy,
)
from equitoken.issuer.custody import (
    CustodyLedger,
    custody_account,
)
from equitoken.issuer.onchain import IssuerChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.multiplier import MULTIPLIER_ONE, Multiplier
from equitoken.model.quantities import Shares
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import (
    AttestationRow,
    CorporateActionEventRow,
    CorporateActionRow,
)


class ActionMachine(StepMachine[CorporateActionRow]):
    """The corporate actions of one chain as rows of the step machine, and the steps they share."""

    row_type = CorporateActionRow
    owner_kind = "corporate-action"

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        broker: Broker,
        prices: PriceSource,
        calendar: MarketCalendar,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        issuer_config: IssuerConfig,
        config: CorporateActionsConfig,
        holders: HolderSource,
        chains: Sequence[TokenChain] = (),
    ) -> None:
        super().__init__(database, onchain.outbox, clock)
        self.onchain = onchain
        # The other chains the instruments live on: a multiplier changes on each at the same instant.
        self.mirrors = [c for c in chains if c.chain_id != onchain.chain_id]
        self.broker = broker
        self.prices = prices
        self.calendar = calendar
        self.instruments = instruments
        self.issuer_config = issuer_config
        self.config = config
        self.holders = holders
        self.ledger = CustodyLedger()

    def outboxes(self) -> Sequence[CallOutbox]:
        return [self.outbox, *(c.outbox for c in self.mirrors)]

    def open_ids(self, session: Session) -> list[str]:
        """Return the chain's open actions in the order they apply."""
        return list(
            session.scalars(
                select(CorporateActionRow.id)
                .where(CorporateActionRow.state.not_in([s.value for s in ActionState if s.is_final]))
                .where(CorporateActionRow.chain_id == self.onchain.chain_id)
                .order_by(CorporateActionRow.effective_at, CorporateActionRow.kind)
            )
        )

    def event(
        self, row: CorporateActionRow, at: datetime, to_state: str, reason: str
    ) -> CorporateActionEventRow:
        """Return the action's event of moving to `to_state`."""
        return CorporateActionEventRow(
            action_id=row.id, at=at, from_state=row.state, to_state=to_state, reason=reason
        )

    def _due_at(self, action: CorporateActionRow) -> datetime:
        """Return when the action's first step may run (market time)."""
        if ActionKind(action.kind) in (ActionKind.SPLIT, ActionKind.REVERSE_SPLIT):
            # Scheduled ahead, once the last session on the old basis has closed (no fills until
            # the ex-date's open, so nothing reads custody on the old basis meanwhile).
            previous = self.calendar.previous_session(action.effective_at - timedelta(seconds=1))
            return previous.close if previous is not None else action.effective_at
        return action.effective_at

    def _chain_time(self, at: datetime) -> int:
        """Return the chain timestamp of market instant `at`, keeping the clocks' offset as it is now.

        The market clock may be simulated (replayed history) while the chain runs on its own time;
        both move at the same pace, so an instant maps to chain time through their current offset.
        """
        pending = self.onchain.chain.timestamp("pending")
        offset = at - self.now()
        return pending + int(offset.total_seconds())

    def _token_decimals(self, ticker: str) -> int:
        return self.instruments[ticker].token_decimals

    def _fail(self, session: Session, action: CorporateActionRow, reason: str) -> None:
        self.move(session, action, ActionState.FAILED, reason)

    def _schedule_multiplier(self, action_id: str) -> bool:
        """Sign (once, with the multipliers it sets stored beside it) and send `setUIMultiplier`."""
        purpose = f"ca:{action_id}:multiplier"
        updater = self.onchain.roles.multiplier_updater
        with self.db.transaction() as session:
            action = self.load(session, action_id)
            token = self.onchain.token(action.ticker)
            if self.onchain.outbox.find(session, purpose) is None:
                if self.now() < self._due_at(action):
                    return False
                try:
                    needed = self._prepare_multiplier(session, action, token.setUIMultiplier, purpose)
                except RevertError as exc:  # e.g. a multiplier out of the token's bounds
                    self._fail(session, action, f"{purpose}: {exc}")
                    return True
                if not needed:  # nothing to change (e.g. nothing bought): the step is done
                    return True
            new, at, ticker = int(action.new_multiplier or 0), action.chain_effective_at, action.ticker
        assert at is not None
        # The other chains first: once this chain's transaction confirms the action moves on (for a
        # reverse split or a fee, to shrinking custody), so every chain must have it by then.
        for chain in self.mirrors:
            if ticker in chain.tickers:
                mirrored = self._mirror_multiplier(action_id, chain, ticker, new, at)
                if mirrored is not None:
                    return mirrored

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            self.move(
                session,
                action,
                ActionState.SCHEDULED,
                f"multiplier {action.old_multiplier} -> {new} scheduled for chain time {at}",
            )

        return self.transact(
            action_id,
            purpose,
            token.setUIMultiplier,
            (new, at),
            updater,
            confirmed,
            self._fail,
            crash_sent="ca_multiplier_sent",
        )

    def _mirror_multiplier(
        self, action_id: str, chain: TokenChain, ticker: str, multiplier: int, at: int
    ) -> bool | None:
        """Schedule the action's multiplier on `chain` for the same instant; None once it is."""
        purpose = f"ca:{action_id}:multiplier@{chain.chain_id}"
        with self.db.transaction() as session:
            existing = chain.outbox.find(session, purpose)
            if existing is not None and existing.status == TxStatus.CONFIRMED:
                return None

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            self.note(
                session, action, f"multiplier {multiplier} scheduled on chain {chain.chain_id} for {at}"
            )

        call = chain.multiplier_call(ticker, multiplier, at)
        return self.transact_call(chain.outbox, action_id, purpose, call, confirmed, self._fail)

    def _prepare_multiplier(
        self, session: Session, action: CorporateActionRow, function: ContractFunction, purpose: str
    ) -> bool:
        """Store the multipliers and effective time and sign the transaction; False if none is needed."""
        token = self.onchain.token(action.ticker)
        old = int(token.uiMultiplier())
        kind = ActionKind(action.kind)
        # The earliest effective time the transaction can still meet once it is mined.
        earliest = self.onchain.chain.timestamp("pending") + self.config.multiplier_lead_seconds
        if kind is ActionKind.CASH_DIVIDEND:
            decimals = self._token_decimals(action.ticker)
            # What was bought is spread over the tokens of every chain, which share one multiplier.
            supplies = [int(token.totalSupply())]
            supplies += [c.supply(action.ticker) for c in self.mirrors if action.ticker in c.tickers]
            outstanding = sum(TokenAmount(supply, decimals).token_steps(old) for supply in supplies)
            bought = Shares(action.shares_bought).floor_to_token_units(decimals)
            if outstanding == 0 or bought == 0:
                self.move(session, action, ActionState.SCHEDULED, "no multiplier change: nothing to spread")
                action.old_multiplier = action.new_multiplier = str(old)
                action.chain_effective_at = earliest
                return False
            # Holders' UI shares grow by what was bought, never more (rounded down).
            new = Multiplier(old).scaled(outstanding + bought, outstanding).value
            effective = earliest
        elif kind is ActionKind.MANAGEMENT_FEE:
            # The fee recorded with the action, whatever the configuration says today.
            fee = InstrumentPolicy(
                fee_bps_per_year=action.fee_bps_per_year,
                fee_periods_per_year=action.fee_periods_per_year,
                fee_start=action.ex_date,
            ).fee_per_period()
            new = Multiplier(old).scaled(MULTIPLIER_ONE - fee, MULTIPLIER_ONE).value
            effective = max(earliest, self._chain_time(action.effective_at))
        else:
            # A split scales the multiplier pending for the ex-date, if one is pending already.
            new = Multiplier(old).scaled(action.ratio_new, action.ratio_old).value
            effective = max(earliest, self._chain_time(action.effective_at))
        action.old_multiplier = str(old)
        action.new_multiplier = str(new)
        action.chain_effective_at = effective
        self.onchain.outbox.sign(
            session,
            purpose,
            function,
            new,
            effective,
            sender=self.onchain.roles.multiplier_updater,
            owner=f"corporate-action:{action.id}",
            now=self.now(),
        )
        return True

    def _in_force(self, action: CorporateActionRow) -> bool:
        # The next block's timestamp: a transaction sent now already sees the new multiplier.
        at = action.chain_effective_at
        return at is not None and self.onchain.chain.timestamp("pending") >= at

    def _block_before(self, chain_time: int) -> int:
        chain = self.onchain.chain
        if chain.timestamp(0) >= chain_time:
            return 0
        return last_block_before(chain, chain_time)

    def _attest(self, action_id: str) -> bool:
        """Push custody (less the issuer's fee shares) in token units over the new multiplier."""
        purpose = f"ca:{action_id}:reserve"
        with self.db.transaction() as session:
            action = self.load(session, action_id, lock=False)
            if not self._in_force(action):
                return False
            ticker = action.ticker
            kind, policy = ActionKind(action.kind), action.policy
            multiplier = int(action.new_multiplier or MULTIPLIER_ONE)
            custody = self.ledger.balance(session, custody_account(ticker), ticker)
            backing = Shares(self.ledger.backing(session, ticker))
            changed = action.old_multiplier != action.new_multiplier
        if kind is ActionKind.CASH_DIVIDEND:
            after = ActionState.PAYING if policy == DividendPolicy.REINVEST else ActionState.COMPLETED
        else:
            after = ActionState.COMPLETED
        if not changed:
            with self.db.transaction() as session:
                action = self.load(session, action_id)
                self.move(session, action, after, "multiplier unchanged; reserves stand")
            return True
        reserve = TokenAmount.backed_by(backing, self._token_decimals(ticker), multiplier).raw
        observed_at = self.onchain.observation_time(self.now())

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            transaction = self.onchain.outbox.find(session, purpose)
            assert transaction is not None
            session.add(
                AttestationRow(
                    ticker=ticker,
                    chain_id=self.onchain.chain_id,
                    custody_shares=custody,
                    reserve_amount=reserve,
                    observed_at=observed_at,
                    transaction_id=transaction.id,
                    created_at=self.now(),
                )
            )
            self.move(session, action, after, f"multiplier {multiplier} in force; reserve {reserve} attested")

        return self.transact(
            action_id,
            purpose,
            self.onchain.reserve_feed(ticker).update,
            (reserve, observed_at),
            self.onchain.roles.attester,
            confirmed,
            self._fail,
        )
