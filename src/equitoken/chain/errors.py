"""Errors of the chain layer, whichever family of chain raised them; each has a stable ``code``."""

from typing import TYPE_CHECKING

from equitoken.model.errors import EquitokenError

if TYPE_CHECKING:
    from equitoken.chain.evm.types import Receipt


class ChainError(EquitokenError):
    """Base of the errors raised by the chain layer; ``code`` is stable, the message says what to do."""

    code = "chain_error"


class RevertError(ChainError):
    """A call or transaction reverted; ``reason`` is the decoded ``Error(string)``/``Panic`` if any."""

    code = "reverted"

    def __init__(
        self,
        reason: str | None,
        data: bytes = b"",
        *,
        context: str = "",
        tx_hash: str | None = None,
        receipt: "Receipt | None" = None,
    ) -> None:
        shown = reason if reason is not None else "no reason given"
        where = f"{context} " if context else ""
        tail = f" (tx {tx_hash})" if tx_hash else ""
        super().__init__(f"{where}reverted: {shown}{tail}")
        self.reason = reason
        self.data = data
        self.tx_hash = tx_hash
        self.receipt = receipt


class NonceTooLowError(ChainError):
    """The chain refused a transaction whose nonce its sender has already used."""

    code = "nonce_too_low"

    def __init__(self, sender: str, nonce: int, expected: int) -> None:
        super().__init__(
            f"nonce too low: {sender} sent nonce {nonce}, its next nonce is {expected}; "
            "re-sign the transaction with the next nonce"
        )
        self.sender = sender
        self.nonce = nonce
        self.expected = expected


class TransactionTimeoutError(ChainError):
    """No receipt arrived in time. The transaction may still be mined: look it up by ``tx_hash``."""

    code = "tx_timeout"

    def __init__(self, tx_hash: str, timeout: float) -> None:
        super().__init__(f"no receipt for {tx_hash} after {timeout:g}s; it may still be mined")
        self.tx_hash = tx_hash
