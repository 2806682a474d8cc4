"""The steps of the actions that move the UI multiplier alone: splits, reverse splits, management fees.

A split scales custody first, then the multiplier from the ex-date's open; a reverse split schedules
the multiplier first and scales custody once it is in force; a fee lowers the multiplier and then moves
the fee's shares from the holders' backing to the issuer. Each way, tokens x multiplier never exceed
custody at any instant.
"""

from equitoken.durable.crashpoints import checkpoint
from equitoken.issuer.corporate_actions.machine import ActionMachine
from equitoken.issuer.corporate_actions.model import ActionKind, ActionState
from equitoken.issuer.custody import (
    Line,
    custody_account,
    fees_account,
    issued_account,
    surplus_account,
)
from equitoken.model.quantities import Shares
from equitoken.model.token_amount import TokenAmount

# The token's upper bound on the multiplier (`ui_multiplier.vy`).
MAX_MULTIPLIER = 10**24


class MultiplierActionSteps(ActionMachine):
    """Custody and fee steps of splits, reverse splits and management fees."""

    def _adjust_custody(self, action_id: str) -> bool:
        """Scale every share account of the instrument by the split ratio, in one entry."""
        with self.db.transaction() as session:
            action = self.load(session, action_id)
            kind = ActionKind(action.kind)
            if kind is ActionKind.SPLIT and self.now() < self._due_at(action):
                return False
            if kind is ActionKind.REVERSE_SPLIT and not self._in_force(action):
                return False
            ticker, new, old = action.ticker, action.ratio_new, action.ratio_old
            if kind is ActionKind.SPLIT:
                # Custody moves first: make sure the token will take the multiplier it is moving for.
                multiplier = int(self.onchain.token(ticker).uiMultiplier()) * new // old
                if multiplier > MAX_MULTIPLIER:
                    reason = f"multiplier {multiplier} would be above the token's bound {MAX_MULTIPLIER}"
                    self._fail(session, action, reason)
                    return True
            balances = self.ledger.balances(session, "", ticker)
            custody = custody_account(ticker)
            lines = []
            for (account, _), balance in sorted(balances.items()):
                # Floor division rounds custody down and every obligation (a credit) up, so the
                # rounding can only leave the issuer short of nothing; the difference is surplus.
                lines.append(Line(account, ticker, balance * new // old - balance))
            residual = -sum(line.amount for line in lines)
            lines.append(Line(surplus_account(ticker), ticker, residual))
            self.ledger.post(
                session,
                f"ca:{action.id}:custody",
                f"{new}-for-{old} split of {ticker}: every share account x {new}/{old}",
                lines,
                at=self.now(),
            )
            before = Shares(balances.get((custody, ticker), 0))
            after = Shares(self.ledger.balance(session, custody, ticker))
            self.move(
                session, action, ActionState.CUSTODY_ADJUSTED, f"custody {before} -> {after} {ticker} shares"
            )
        checkpoint("ca_custody_adjusted")
        return True

    def _take_fee(self, action_id: str) -> bool:
        """Move the fee's shares from the holders' backing to the issuer's fee account."""
        with self.db.transaction() as session:
            action = self.load(session, action_id, lock=False)
            if not self._in_force(action):
                return False
            ticker, effective = action.ticker, action.chain_effective_at
            old, new = int(action.old_multiplier or 0), int(action.new_multiplier or 0)
        assert effective is not None
        # The supply when the lower multiplier took effect: tokens minted later were bought at it.
        block = self._block_before(effective)
        raw = sum(h.raw for h in self.holders(ticker, self.onchain.chain_id, block))
        decimals = self._token_decimals(ticker)
        supply = TokenAmount(raw, decimals)
        fee = supply.shares(old) - supply.shares(new)
        with self.db.transaction() as session:
            action = self.load(session, action_id)
            self.ledger.post(
                session,
                f"ca:{action.id}:fee",
                f"management fee on {ticker}: {fee} shares from the holders' backing to the issuer",
                [
                    Line(issued_account(ticker), ticker, fee.units),
                    Line(fees_account(ticker), ticker, -fee.units),
                ],
                at=self.now(),
            )
            action.record_block = block
            action.record_shares = supply.shares(old).units
            self.move(session, action, ActionState.CUSTODY_ADJUSTED, f"fee of {fee} {ticker} shares taken")
        checkpoint("ca_custody_adjusted")
        return True
