"""An investor's action on a venue or the issuer's order processor, sent once per purpose through the outbox.

The lending, perpetuals and synthetic-stock clients check an action against the chain, then hand
it here: the purpose ``<venue>:<wallet>:<market>:<action>:<key>`` names one request, so a second
call with the same key (after a crash, or twice) gets the first call's outcome and sends nothing::

    sent = Outboxed("lending", chain, database, outbox, clock, LendingError, LendingTransactionError)
    sender = sent.sender(wallet, key)
    purpose = sent.purpose(sender, "AAPL", "supply", key)
    sent.approve(purpose, usdc, lending.address, units, sender, "supply")  # under <purpose>:approve
    outcome = sent.run(purpose, lending.supply, args, sender, "supply")

A refusal or a revert raises the venue's own transaction error.
"""

from dataclasses import dataclass

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract, ContractFunction
from equitoken.chain.evm.types import Receipt
from equitoken.durable.outbox import Outbox, TxOutcome
from equitoken.model.errors import EquitokenError
from equitoken.model.time import Clock
from equitoken.store.database import Database

__all__ = ["MAX_KEY_LENGTH", "Outboxed"]

MAX_KEY_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Outboxed:
    """Send a venue's actions for the wallets the chain signs for, each once per purpose.

    `error` is the venue's error for a bad key or wallet, `transaction_error` its error for a
    transaction the chain refuses or reverts.
    """

    venue: str
    chain: EvmChain
    db: Database
    outbox: Outbox
    clock: Clock
    error: type[EquitokenError]
    transaction_error: type[EquitokenError]

    def sender(self, wallet: str, key: str) -> str:
        """Return the address that signs for `wallet`, once `key` is a valid request key."""
        if not key or len(key) > MAX_KEY_LENGTH or ":" in key:
            raise self.error(f"a request key has 1 to {MAX_KEY_LENGTH} characters and no ':', not {key!r}")
        if wallet not in self.chain.signers:
            raise self.error(f"cannot sign for wallet {wallet}")
        return self.chain.signers.get(wallet).address

    def purpose(self, wallet: str, market: str, action: str, key: str) -> str:
        """Return the outbox purpose of an action."""
        return f"{self.venue}:{wallet}:{market}:{action}:{key}"

    def stored(self, purpose: str) -> bool:
        """Return whether a transaction is stored for `purpose` (sent before under its key)."""
        with self.db.transaction() as session:
            return self.outbox.find(session, purpose) is not None

    def approve(
        self, purpose: str, token: Contract, spender: str, amount: int, sender: str, what: str
    ) -> None:
        """Approve `spender` for `amount` of `token` first, under ``<purpose>:approve``, unless none is
        stored and the allowance suffices."""
        purpose = f"{purpose}:approve"
        if not self.stored(purpose) and int(token.allowance(sender, spender)) >= amount:
            return
        self.run(purpose, token.approve, (spender, amount), sender, what)

    def run(
        self, purpose: str, function: ContractFunction, args: tuple[object, ...], sender: str, what: str
    ) -> TxOutcome:
        """Send `function(*args)` once for `purpose`; raise naming `what` if the chain refuses it."""
        try:
            outcome = self.outbox.run(
                self.db,
                purpose,
                function,
                args,
                sender=sender,
                owner=f"{self.venue}:{sender}",
                now=self.clock.now,
                record=lambda _session, _outcome: None,
            )
        except RevertError as exc:
            raise self.transaction_error(f"the chain refuses the {what}: {exc.reason or exc}") from None
        if outcome.failed:
            raise self.transaction_error(f"{purpose} reverted: {outcome.error}; retry with a new key")
        return outcome

    def mined(self, outcome: TxOutcome) -> Receipt:
        """Return the receipt of the outcome's transaction."""
        receipt = self.chain.receipt(outcome.tx_hash)
        if receipt is None:
            raise self.transaction_error(f"{outcome.purpose}: transaction {outcome.tx_hash} is not mined yet")
        return receipt
