"""How a bridge message is minted at its destination, per chain family.

On EVM the token pool decides: `receive` checks the quorum, the rate limit and the receiver, then
mints or holds, and the compliance agent's `release` or `return_held` settles a held message. On
Solana there is no program: the issuer's mint authority mints, so the relayer checks here what the
pool checks on EVM (the receiver's token account, the sanctions list) before it signs, holds what
fails, and settles a held message the same two ways: a mint to the wallet the agent names, or a
return, which mints to the issuer's hold wallet and burns from it with a bridge memo to the sender in
one transaction, an ordinary bridge-out every attester can see.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.bridge.ends import EvmEnd, Network, SolanaEnd, SourceBurn
from equitoken.bridge.message import BridgeMessage, evm_address
from equitoken.bridge.solana_burns import bridge_out_instructions
from equitoken.chain.solana.agent import mint_to_holder
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS
from equitoken.chain.solana.token2022 import AccountState, create_associated_token_account, thaw_account
from equitoken.durable.outbox import EvmCall
from equitoken.durable.solana_outbox import SolanaCall
from equitoken.issuer.chains import ChainOutbox
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.model.instrument import ComplianceProfile

# The pool's `message_status`.
NOT_SEEN, MINTED, HELD, RELEASED, RETURNED = range(5)


class Delivery(Protocol):
    """What the relayer does at one destination chain."""

    @property
    def chain_id(self) -> int: ...

    @property
    def outbox(self) -> ChainOutbox: ...

    gated_by_feed: bool
    """Whether the chain's reserve feed gates the mint (EVM): raise it first."""

    def status(self, ticker: str, message: BridgeMessage) -> int:
        """Return the message's status at the destination (`NOT_SEEN` where only the relayer knows)."""
        ...

    def refusal(self, ticker: str, receiver: bytes, sender: bytes | None) -> str | None:
        """Say why `receiver` may not get tokens now (checked off-chain); None if it may, or if the chain
        checks it itself."""
        ...

    def release_refusal(self, ticker: str, wallet: str) -> str | None:
        """Say why a held transfer may not be released to `wallet` now; None if it may."""
        ...

    def receive_call(self, ticker: str, message: BridgeMessage, signatures: Sequence[bytes]) -> Any: ...

    def release_call(self, ticker: str, message: BridgeMessage, to: str) -> Any: ...

    def return_call(self, ticker: str, message: BridgeMessage) -> Any: ...

    def returned_burn(self, tx: str, source: Network) -> SourceBurn | None:
        """Return the bridge-out a confirmed return transaction made."""
        ...

    def parse_wallet(self, text: str) -> str:
        """Return the wallet `text` names on this chain; raise ValueError naming the problem."""
        ...


@dataclass
class EvmDelivery:
    """An EVM destination: the pool's `receive`, `release` and `return_held`."""

    end: EvmEnd
    outbox: ChainOutbox
    relayer: str
    agent: str
    gated_by_feed = True

    @property
    def chain_id(self) -> int:
        return self.end.chain_id

    def status(self, ticker: str, message: BridgeMessage) -> int:
        return int(self.end.contract(ticker).message_status(message.id))

    def refusal(self, ticker: str, receiver: bytes, sender: bytes | None) -> str | None:
        if evm_address(receiver) is None:
            return "the receiver is not an EVM address"
        return None  # the pool checks the receiver itself, and holds what it refuses

    def release_refusal(self, ticker: str, wallet: str) -> str | None:
        # `release` mints to the wallet, and the token refuses a receiver it would refuse a transfer to.
        pool = self.end.contract(ticker)
        code, reason = self.end.token(ticker).can_transfer(pool.address, wallet, 0)
        return None if int(code) == 0 else f"the {ticker} token refuses {wallet}: {reason}"

    def receive_call(self, ticker: str, message: BridgeMessage, signatures: Sequence[bytes]) -> EvmCall:
        return EvmCall(
            self.end.contract(ticker).receive, (message.as_tuple(), list(signatures)), self.relayer
        )

    def release_call(self, ticker: str, message: BridgeMessage, to: str) -> EvmCall:
        return EvmCall(self.end.contract(ticker).release, (message.id, to), self.agent)

    def return_call(self, ticker: str, message: BridgeMessage) -> EvmCall:
        return EvmCall(self.end.contract(ticker).return_held, (message.id,), self.agent)

    def returned_burn(self, tx: str, source: Network) -> SourceBurn | None:
        receipt = self.end.chain.receipt(tx)
        if receipt is None:
            return None
        for log in receipt.logs:
            burn = self.end.burn(tx, log.log_index, source)
            if burn is not None:
                return burn
        return None

    def parse_wallet(self, text: str) -> str:
        from equitoken.issuer.onchain import parse_address

        return parse_address(text)


@dataclass
class SolanaDelivery:
    """A Solana destination: the issuer's mint authority, with the pool's checks done off-chain."""

    end: SolanaEnd
    issuer: SolanaIssuerChain
    hold: Keypair
    sanctioned: Collection[str] = ()
    gated_by_feed = False

    @property
    def chain_id(self) -> int:
        return self.end.chain_id

    @property
    def outbox(self) -> ChainOutbox:
        return self.issuer.outbox

    def status(self, ticker: str, message: BridgeMessage) -> int:
        return NOT_SEEN  # the outbox's purposes are the record of what was minted here

    def refusal(self, ticker: str, receiver: bytes, sender: bytes | None) -> str | None:
        listed = {w.lower() for w in self.sanctioned}
        wallet = str(Pubkey(receiver))
        if wallet.lower() in listed:
            return f"receiver {wallet} is sanctioned"
        origin = evm_address(sender) if sender is not None else None
        if origin is not None and origin.lower() in listed:
            return f"sender {origin} is sanctioned"
        account = self.issuer.chain.token_account(self.issuer.token_account(ticker, wallet))
        profile = self.issuer.profiles.get(ticker, ComplianceProfile.OPEN)
        if account is None and profile is not ComplianceProfile.OPEN:
            return f"receiver {wallet} is not a verified {ticker} holder on Solana (no token account)"
        frozen = account is not None and account.state is AccountState.FROZEN
        if frozen and profile is not ComplianceProfile.RESTRICTED:
            return f"receiver {wallet}'s {ticker} token account on Solana is frozen"
        return None

    def release_refusal(self, ticker: str, wallet: str) -> str | None:
        return self.refusal(ticker, bytes(Pubkey.from_string(wallet)), None)

    def receive_call(self, ticker: str, message: BridgeMessage, signatures: Sequence[bytes]) -> SolanaCall:
        return self._mint(ticker, str(Pubkey(message.receiver)), message.amount)

    def release_call(self, ticker: str, message: BridgeMessage, to: str) -> SolanaCall:
        return self._mint(ticker, to, message.amount)

    def return_call(self, ticker: str, message: BridgeMessage) -> SolanaCall:
        mint, a = self.end.mints[ticker], self.issuer.authorities
        holder = self.hold.pubkey()
        account = self.issuer.token_account(ticker, str(holder))
        instructions = [create_associated_token_account(self.issuer.payer.pubkey(), holder, mint)]
        existing = self.issuer.chain.token_account(account)
        frozen_by_default = self.issuer.chain.mint(mint).default_account_state is AccountState.FROZEN
        if (existing is None and frozen_by_default) or (existing and existing.state is AccountState.FROZEN):
            instructions.append(thaw_account(account, mint, a.freezer.pubkey()))
        instructions += mint_to_holder(mint, a, account, message.amount, restricted=False)
        instructions += bridge_out_instructions(
            mint, holder, message.amount, STOCK_DECIMALS, message.source_chain, message.sender
        )
        return SolanaCall(instructions, self.issuer.payer, (a.minter, a.freezer, self.hold))

    def returned_burn(self, tx: str, source: Network) -> SourceBurn | None:
        return self.end.burn(tx, 0, source)

    def parse_wallet(self, text: str) -> str:
        return self.issuer.parse_wallet(text)

    def _mint(self, ticker: str, wallet: str, amount: int) -> SolanaCall:
        call = self.issuer.mint_call(ticker, wallet, amount)
        owner, mint = Pubkey.from_string(wallet), self.end.mints[ticker]
        create = create_associated_token_account(self.issuer.payer.pubkey(), owner, mint)
        return SolanaCall([create, *call.instructions], call.payer, call.signers)
