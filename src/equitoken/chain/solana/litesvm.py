"""An in-process Solana on LiteSVM, running the SPL Token-2022, Token and Associated Token Account
programs LiteSVM ships, on the platform's clock.

Every transaction is stamped with the clock's time (the Clock sysvar's `unix_timestamp`) and gets a
fresh blockhash, so two identical transactions are two transactions, as on a real cluster. With a
`snapshot`, the accounts each confirmed transaction touched are written to disk before `send`
returns, and loaded again when the chain is created: a killed process loses nothing it was told.
"""

from collections.abc import Sequence

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata

from equitoken.chain.errors import RevertError
from equitoken.chain.solana.snapshot import Landed, SvmSnapshot
from equitoken.chain.solana.token2022 import (
    MintState,
    TokenAccountState,
    decode_mint,
    decode_token_account,
    explain,
)
from equitoken.model.time import Clock

LAMPORTS_PER_SOL = 1_000_000_000


class LiteSvmChain:
    """One LiteSVM instance; `send` runs a transaction and returns its metadata or raises RevertError."""

    def __init__(self, clock: Clock, snapshot: SvmSnapshot | None = None) -> None:
        self.clock = clock
        self.snapshot = snapshot
        self.svm = LiteSVM()
        self._landed: dict[str, Landed] = {}
        if snapshot is not None:
            accounts, saved_clock = snapshot.load()
            for address, account in accounts:
                self.svm.set_account(address, account)
            if saved_clock is not None:
                self.svm.warp_to_slot(saved_clock[0] + 1)
            self._landed = {landed.signature: landed for landed in snapshot.landed()}

    def airdrop(self, to: Pubkey, lamports: int = 10 * LAMPORTS_PER_SOL) -> None:
        """Give `to` lamports (a local chain's faucet)."""
        self._stamp()
        outcome = self.svm.airdrop(to, lamports)
        if isinstance(outcome, FailedTransactionMetadata):
            raise RevertError(str(outcome.err()), context=f"airdrop to {to}")
        self._save([to])

    def send(
        self, instructions: Sequence[Instruction], payer: Keypair, *signers: Keypair, context: str = ""
    ) -> TransactionMetadata:
        """Run `instructions` in one transaction paid by `payer`, signed by those of `signers` it needs.

        Raise ValueError if a signature it needs is missing, RevertError naming the program's failure.
        """
        self._stamp()
        message = Message(list(instructions), payer.pubkey())
        keys = {k.pubkey(): k for k in (payer, *signers)}
        required = message.account_keys[: message.header.num_required_signatures]
        missing = [str(key) for key in required if key not in keys]
        if missing:
            raise ValueError(f"{context or 'the transaction'} needs the signature of {', '.join(missing)}")
        # Only the keys the instructions ask for sign: a spare keypair is not an error.
        transaction = Transaction([keys[key] for key in required], message, self.svm.latest_blockhash())
        outcome = self.svm.send_transaction(transaction)
        self.svm.expire_blockhash()
        if isinstance(outcome, FailedTransactionMetadata):
            logs = outcome.meta().logs()
            failure = next((line for line in reversed(logs) if "failed" in line or "Error" in line), None)
            reason = None if failure is None else explain(failure)
            raise RevertError(
                reason or str(outcome.err()), context=context, tx_hash=str(transaction.signatures[0])
            )
        clock = self.svm.get_clock()
        signature = str(transaction.signatures[0])
        landed = Landed(signature, clock.slot, clock.unix_timestamp, outcome.compute_units_consumed())
        self._landed[signature] = landed
        self._save(message.account_keys, landed)
        self.svm.warp_to_slot(clock.slot + 1)  # each transaction in a slot of its own, as on a cluster
        return outcome

    def landed(self, signature: str) -> Landed | None:
        """Return where and when the transaction with `signature` was confirmed, or None if it never was."""
        return self._landed.get(signature)

    def lamports(self, address: Pubkey) -> int:
        return self.svm.get_balance(address) or 0

    def account_data(self, address: Pubkey) -> bytes | None:
        """Return the data of the account at `address`, or None if it does not exist."""
        account = self.svm.get_account(address)
        return None if account is None else bytes(account.data)

    def mint(self, address: Pubkey) -> MintState:
        """Return the Token-2022 mint at `address`; raise ValueError if there is none."""
        data = self.account_data(address)
        if data is None:
            raise ValueError(f"no account at {address}")
        return decode_mint(data)

    def token_account(self, address: Pubkey) -> TokenAccountState | None:
        """Return the token account at `address`, or None if it does not exist."""
        data = self.account_data(address)
        return None if data is None else decode_token_account(data)

    def rent_exempt(self, space: int) -> int:
        """Return the lamports an account of `space` bytes needs to be rent-exempt."""
        return self.svm.minimum_balance_for_rent_exemption(space)

    def timestamp(self) -> int:
        """Return the Clock sysvar's unix time (the platform's clock at the last transaction)."""
        return self.svm.get_clock().unix_timestamp

    def _save(self, addresses: Sequence[Pubkey], landed: Landed | None = None) -> None:
        if self.snapshot is not None:
            clock = self.svm.get_clock()
            accounts = [(address, self.svm.get_account(address)) for address in addresses]
            self.snapshot.save(accounts, clock.slot, clock.unix_timestamp, landed)

    def _stamp(self) -> None:
        clock = self.svm.get_clock()
        clock.unix_timestamp = int(self.clock.now().timestamp())
        self.svm.set_clock(clock)
