"""Advance corporate actions step by step, so that a crash between any two steps loses nothing.

Each step reads the action from the database, does one thing, and records its effect in the same
database transaction as the new state, as the mint and redeem workflow does:
- custody entries are keyed by cause (`ca:<action>:custody`, `ca:<action>:fill:<fill id>`...);
- the broker buy of a reinvestment carries `ca-<action>` as client order id;
- every transaction (multiplier, reserve attestation, each payment) goes through the outbox under a
  unique purpose (`ca:<action>:multiplier`, `ca:<action>:pay:<chain>:<holder>`...). The multiplier
  transaction is signed in the transaction that stores the multipliers it sets, so a rerun after a
  crash sends those same bytes and never recomputes them.

Order of the steps, chosen so that tokens x multiplier never exceed custody at any instant:
- split: custody x r -> multiplier x r scheduled for the ex-date open -> (in force) reserve attested;
- reverse split: multiplier x r scheduled -> (in force) custody x r -> reserve attested;
- management fee: multiplier x (1 - f) scheduled -> (in force) the fee's shares move from the
  holders' backing (`issued:<ticker>`) to `fees:<ticker>` -> reserve attested;
- dividend: holders of record fixed and cash received -> reinvest: buy, then multiplier x (1 + bought
  / outstanding) effective at once -> reserve attested -> treaty refunds paid; payout: each holder paid.
"""

from sqlalchemy import select

from equitoken.durable.steps import Step
from equitoken.issuer.corporate_actions.dividends import DividendSteps
from equitoken.issuer.corporate_actions.model import ActionKind, ActionState
from equitoken.issuer.corporate_actions.multiplier_actions import MultiplierActionSteps
from equitoken.store.schema import CorporateActionRow


class ActionEngine(MultiplierActionSteps, DividendSteps):
    """The step engine behind `CorporateActions.process`."""

    def step_for(self, row: CorporateActionRow) -> Step | None:
        """Return the step of the action's kind and state; None once it has ended."""
        state = ActionState(row.state)
        if state.is_final:
            return None
        return {
            (ActionKind.SPLIT, ActionState.ANNOUNCED): self._adjust_custody,
            (ActionKind.SPLIT, ActionState.CUSTODY_ADJUSTED): self._schedule_multiplier,
            (ActionKind.SPLIT, ActionState.SCHEDULED): self._attest,
            (ActionKind.REVERSE_SPLIT, ActionState.ANNOUNCED): self._schedule_multiplier,
            (ActionKind.REVERSE_SPLIT, ActionState.SCHEDULED): self._adjust_custody,
            (ActionKind.REVERSE_SPLIT, ActionState.CUSTODY_ADJUSTED): self._attest,
            (ActionKind.MANAGEMENT_FEE, ActionState.ANNOUNCED): self._schedule_multiplier,
            (ActionKind.MANAGEMENT_FEE, ActionState.SCHEDULED): self._take_fee,
            (ActionKind.MANAGEMENT_FEE, ActionState.CUSTODY_ADJUSTED): self._attest,
            (ActionKind.CASH_DIVIDEND, ActionState.ANNOUNCED): self._record_holders,
            (ActionKind.CASH_DIVIDEND, ActionState.RECORDED): self._place_buy,
            (ActionKind.CASH_DIVIDEND, ActionState.ORDERED): self._follow_buy,
            (ActionKind.CASH_DIVIDEND, ActionState.BOUGHT): self._schedule_multiplier,
            (ActionKind.CASH_DIVIDEND, ActionState.SCHEDULED): self._attest,
            (ActionKind.CASH_DIVIDEND, ActionState.PAYING): self._pay_next,
        }[(ActionKind(row.kind), state)]

    def process(self) -> int:
        """Advance every open action as far as it can go now; return how many steps were taken."""
        for outbox in self.outboxes():
            outbox.rebroadcast(self.db)
        with self.db.transaction() as session:
            ids = self.open_ids(session)
            rows = session.execute(
                select(CorporateActionRow.id, CorporateActionRow.ticker).where(CorporateActionRow.id.in_(ids))
            )
            tickers = dict(rows.all())
        steps = 0
        blocked: set[str] = set()
        for action_id in ids:
            # One instrument's actions apply in order: a later one waits for an earlier one to end.
            if tickers[action_id] in blocked:
                continue
            steps += self.advance(action_id)
            with self.db.transaction() as session:
                if not ActionState(self.load(session, action_id, lock=False).state).is_final:
                    blocked.add(tickers[action_id])
        return steps + self._pay_released()
