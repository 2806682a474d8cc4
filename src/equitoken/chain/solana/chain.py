"""What the platform does on a Solana cluster, whichever node answers: LiteSVM in this process, or a
cluster's JSON-RPC (devnet, mainnet, or the one `up` serves).

A transaction names a recent blockhash and is valid only while the cluster still knows that
blockhash; one that has not landed by then never can. That is what makes a stored, signed
transaction safe to replace: `landed(signature)` is None and `blockhash_valid` is False means the
old bytes are dead and the same work may be signed again (the durable outbox relies on it).
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction, VersionedTransaction

from equitoken.chain.confirmation import wait_for
from equitoken.chain.errors import RevertError, TransactionTimeoutError
from equitoken.chain.solana.token2022 import (
    MintState,
    TokenAccountState,
    associated_token_address,
    decode_mint,
    decode_token_account,
)
from equitoken.model.multiplier import Multiplier

# The platform's ids for Solana clusters, in the same space as EVM chain ids so that a request, an
# outbox row or an attestation names its chain with one integer. Solana has no chain id of its own;
# mainnet's is the one deBridge uses for Solana, the others follow it.
SOLANA_MAINNET = 7565164
SOLANA_DEVNET = 7565165
SOLANA_LOCAL = 7565166
SOLANA_CHAIN_IDS = {"mainnet-beta": SOLANA_MAINNET, "devnet": SOLANA_DEVNET, "local": SOLANA_LOCAL}


@dataclass(frozen=True, slots=True)
class Landed:
    """A transaction the cluster confirmed: its slot, time and compute units, and its error if it failed
    (a failed transaction lands too on a cluster: it pays its fee and changes nothing else)."""

    signature: str
    slot: int
    unix_timestamp: int
    compute_units: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Simulated:
    """What a transaction would do now, without landing: its error, logs, compute units and return data."""

    error: str | None
    logs: tuple[str, ...]
    compute_units: int
    return_data: bytes
    error_detail: object = None  # the error as a cluster's JSON-RPC writes it


def parse_pubkey(text: str, what: str = "address") -> Pubkey:
    """Return the Solana address `text` names; raise ValueError naming the problem."""
    if not isinstance(text, str) or not 32 <= len(text.strip()) <= 44:
        raise ValueError(f"{what} {text!r} is not a Solana address (32 to 44 base58 characters)")
    try:
        return Pubkey.from_string(text.strip())
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a Solana address (not base58 of 32 bytes)") from None


class SolanaChain(ABC):
    """One Solana cluster: send signed transactions, learn whether they landed, read accounts."""

    chain_id: int

    @abstractmethod
    def latest_blockhash(self) -> Hash:
        """Return the blockhash a transaction signed now should name."""

    @abstractmethod
    def blockhash_valid(self, blockhash: Hash) -> bool:
        """Return whether a transaction naming `blockhash` can still land."""

    @abstractmethod
    def send_raw(self, transaction: Transaction) -> None:
        """Hand a signed transaction to the cluster; raise RevertError if it refuses it outright."""

    @abstractmethod
    def simulate(self, transaction: Transaction) -> Simulated:
        """Run a signed transaction against the current state without keeping its effects."""

    @abstractmethod
    def landed(self, signature: str) -> Landed | None:
        """Return where the transaction with `signature` landed, or None if it has not (yet)."""

    @abstractmethod
    def confirmed_transaction(self, signature: str) -> tuple[Landed, VersionedTransaction] | None:
        """Return where the transaction with `signature` landed and the transaction as signed; None if
        it is unknown, has not landed (yet) or failed."""

    @abstractmethod
    def slot(self) -> int:
        """Return the cluster's current slot."""

    @abstractmethod
    def account_data(self, address: Pubkey) -> bytes | None:
        """Return the data of the account at `address`, or None if it does not exist."""

    @abstractmethod
    def lamports(self, address: Pubkey) -> int:
        """Return the lamports `address` holds (0 for no account)."""

    @abstractmethod
    def rent_exempt(self, space: int) -> int:
        """Return the lamports an account of `space` bytes needs to be rent-exempt."""

    @abstractmethod
    def timestamp(self) -> int:
        """Return the cluster's unix time (its Clock sysvar)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the chain holds open (a connection, a file)."""

    # -- built on the above

    def sign(
        self, instructions: Sequence[Instruction], payer: Keypair, *signers: Keypair, context: str = ""
    ) -> Transaction:
        """Return `instructions` as one transaction paid by `payer`, signed by those of `signers` it
        needs, naming the latest blockhash; raise ValueError if a signature it needs is missing."""
        message = Message(list(instructions), payer.pubkey())
        keys = {k.pubkey(): k for k in (payer, *signers)}
        required = message.account_keys[: message.header.num_required_signatures]
        missing = [str(key) for key in required if key not in keys]
        if missing:
            raise ValueError(f"{context or 'the transaction'} needs the signature of {', '.join(missing)}")
        # Only the keys the instructions ask for sign: a spare keypair is not an error.
        return Transaction([keys[key] for key in required], message, self.latest_blockhash())

    def send(
        self,
        instructions: Sequence[Instruction],
        payer: Keypair,
        *signers: Keypair,
        context: str = "",
        timeout: float = 60.0,
    ) -> Landed:
        """Sign, send and wait for `instructions`; raise RevertError naming the program's failure."""
        transaction = self.sign(instructions, payer, *signers, context=context)
        signature = str(transaction.signatures[0])
        self.send_raw(transaction)
        landed = wait_for(lambda: self.landed(signature), timeout)
        if landed is None:
            raise TransactionTimeoutError(signature, timeout)
        if landed.error is not None:
            raise RevertError(landed.error, context=context, tx_hash=signature)
        return landed

    def preview(self, instructions: Sequence[Instruction], payer: Keypair, *signers: Keypair) -> Simulated:
        """Simulate `instructions` as `send` would send them."""
        return self.simulate(self.sign(instructions, payer, *signers))

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

    def holder_balance(self, mint: Pubkey, owner: Pubkey) -> int:
        """Return the raw units `owner`'s associated token account of `mint` holds (0 without one)."""
        account = self.token_account(associated_token_address(owner, mint))
        return 0 if account is None else account.amount

    def multiplier(self, mint: Pubkey) -> Multiplier:
        """Return the mint's UI multiplier in force now (1 for a mint without ScaledUiAmount)."""
        scaled = self.mint(mint).scaled_ui_amount
        return Multiplier.one() if scaled is None else Multiplier.from_double(scaled.at(self.timestamp()))
