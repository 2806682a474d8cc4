"""The bridge's view of each chain it joins: where a token's pool is, and the burns a chain has seen.

An `EvmEnd` reads the `Sent` events of the token pools (`contracts/bridge/TokenPool.vy`); a
`SolanaEnd` reads holders' bridge-out transactions (a memo and a Token-2022 burn, see
`bridge.solana_burns`). Both say how deep a burn must be buried before anyone acts on it: the
chain's confirmation depth, the bridge's finality rule. Attesters and the relayer use the same ends,
each over its own connection to the chain.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from solders.pubkey import Pubkey

from equitoken.bridge.message import BridgeMessage, MessageError, word
from equitoken.bridge.solana_burns import BridgeBurn, find_bridge_burns, parse_bridge_burn
from equitoken.chain.evm.abi import find_event
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.types import Event
from equitoken.chain.solana.chain import SolanaChain
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS
from equitoken.model.address import checksum


@cache
def pool_artifact() -> Artifact:
    """Return the compiled token pool."""
    return compile_contract("bridge/TokenPool.vy")


@cache
def token_artifact() -> Artifact:
    """Return the compiled stock token a pool mints and burns."""
    return compile_contract("token/StockToken.vy")


@dataclass(frozen=True)
class SourceBurn:
    """A bridge message burned at its source: the message, and where the burn is."""

    ticker: str
    message: BridgeMessage
    tx: str
    log_index: int
    block: int


class BridgeEnd(Protocol):
    """One chain the bridge joins."""

    @property
    def chain_id(self) -> int: ...

    family: str
    confirmations: int

    @property
    def tickers(self) -> list[str]: ...

    def pool(self, ticker: str) -> bytes:
        """Return the 32 bytes that name `ticker`'s pool (EVM) or mint (Solana) in messages."""
        ...

    def decimals(self, ticker: str) -> int: ...

    def head(self) -> int:
        """Return the newest block (slot) number."""
        ...

    def burns(self, after: int, until: int, pools: "Network") -> list[SourceBurn]:
        """Return the bridge burns of blocks after `after` up to `until`, in order."""
        ...

    def burn(self, tx: str, log_index: int, pools: "Network") -> SourceBurn | None:
        """Return the bridge burn at `tx` (and `log_index` on EVM); None if there is none."""
        ...


class Network:
    """The ends the bridge joins, by chain id."""

    def __init__(self, ends: Mapping[int, BridgeEnd]) -> None:
        self.ends = dict(ends)

    def end(self, chain_id: int) -> BridgeEnd:
        """Return the end of `chain_id`; raise LookupError naming those there are."""
        if chain_id not in self.ends:
            raise LookupError(f"the bridge joins chains {sorted(self.ends)}, not {chain_id}")
        return self.ends[chain_id]

    def pool(self, chain_id: int, ticker: str) -> bytes | None:
        """Return `ticker`'s pool on `chain_id`; None if the bridge has none there."""
        end = self.ends.get(chain_id)
        if end is None or ticker not in end.tickers:
            return None
        return end.pool(ticker)


@dataclass
class EvmEnd:
    """An EVM chain: a token pool per ticker."""

    chain: EvmChain
    pools: Mapping[str, str]
    confirmations: int = 0
    family = "EVM"

    def __post_init__(self) -> None:
        self.pools = {ticker: checksum(address) for ticker, address in self.pools.items()}
        self._tickers = {address.lower(): ticker for ticker, address in self.pools.items()}

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @property
    def tickers(self) -> list[str]:
        return sorted(self.pools)

    def contract(self, ticker: str) -> Contract:
        """Return `ticker`'s pool."""
        if ticker not in self.pools:
            raise LookupError(f"no {ticker} pool on chain {self.chain_id}")
        return self.chain.at(self.pools[ticker], pool_artifact(), f"{ticker} pool")

    def pool(self, ticker: str) -> bytes:
        return word(self.contract(ticker).address)

    def decimals(self, ticker: str) -> int:
        return int(self.token(ticker).decimals())

    def token(self, ticker: str) -> Contract:
        """Return `ticker`'s stock token."""
        return self.chain.at(self.contract(ticker).token(), token_artifact(), f"{ticker} token")

    def head(self) -> int:
        return self.chain.block_number()

    def burns(self, after: int, until: int, pools: Network) -> list[SourceBurn]:
        if until <= after or not self.pools:
            return []
        sent = find_event(pool_artifact().abi, "Sent", "TokenPool")
        found = []
        for event in self.chain.get_logs(None, sent, after + 1, until):
            burn = self._burn(event, pools)
            if burn is not None:
                found.append(burn)
        return sorted(found, key=lambda b: (b.block, b.log_index))

    def burn(self, tx: str, log_index: int, pools: Network) -> SourceBurn | None:
        receipt = self.chain.receipt(tx)
        if receipt is None or not receipt.succeeded:
            return None
        for event in self.chain.decode_logs(receipt, pool_artifact()):
            if event.name == "Sent" and event.log_index == log_index:
                return self._burn(event, pools)
        return None

    def _burn(self, event: Event, pools: Network) -> SourceBurn | None:
        ticker = self._tickers.get(event.address.lower())
        if ticker is None:  # the same event from a contract that is not one of our pools
            return None
        args = event.args
        try:
            message = BridgeMessage(
                source_chain=self.chain_id,
                source_pool=word(event.address),
                dest_chain=int(args["dest_chain"]),
                dest_pool=word(args["dest_pool"]),
                nonce=int(args["nonce"]),
                sender=word(args["sender"]),
                receiver=word(args["receiver"]),
                amount=int(args["amount"]),
            )
        except (MessageError, KeyError, TypeError):
            return None
        if "0x" + message.id.hex() != _hex(args["message_id"]):
            return None
        return SourceBurn(ticker, message, event.tx_hash, event.log_index, event.block_number)


@dataclass
class SolanaEnd:
    """A Solana cluster: holders burn with a memo, the issuer's mint authority mints."""

    chain: SolanaChain
    mints: Mapping[str, Pubkey]
    confirmations: int = 0
    family = "Solana"

    def __post_init__(self) -> None:
        self._tickers = {mint: ticker for ticker, mint in self.mints.items()}

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @property
    def tickers(self) -> list[str]:
        return sorted(self.mints)

    def pool(self, ticker: str) -> bytes:
        if ticker not in self.mints:
            raise LookupError(f"no {ticker} mint on chain {self.chain_id}")
        return bytes(self.mints[ticker])

    def decimals(self, ticker: str) -> int:
        return STOCK_DECIMALS

    def head(self) -> int:
        # The current slot may still take transactions (LiteSVM lands the next one in it): the
        # newest slot that can be read for good is the one before.
        return self.chain.slot() - 1

    def burns(self, after: int, until: int, pools: Network) -> list[SourceBurn]:
        if until <= after:
            return []
        if not isinstance(self.chain, LiteSvmChain):
            raise NotImplementedError("reading a cluster's history needs the local LiteSVM chain")
        found = find_bridge_burns(self.chain, list(self.mints.values()), after, until)
        burns = [self._burn(b, pools) for b in found]
        return [b for b in burns if b is not None]

    def burn(self, tx: str, log_index: int, pools: Network) -> SourceBurn | None:
        landed = self.chain.confirmed_transaction(tx)
        if landed is None:
            return None
        found = parse_bridge_burn(tx, landed[0].slot, landed[1], list(self.mints.values()))
        return None if found is None else self._burn(found, pools)

    def _burn(self, burn: BridgeBurn, pools: Network) -> SourceBurn | None:
        ticker = self._tickers[burn.mint]
        dest_pool = pools.pool(burn.dest_chain, ticker)
        if dest_pool is None:
            return None  # see `Relayer.strays`: a burn to nowhere is kept for the compliance agent
        message = BridgeMessage(
            source_chain=self.chain_id,
            source_pool=bytes(burn.mint),
            dest_chain=burn.dest_chain,
            dest_pool=dest_pool,
            nonce=0,
            sender=bytes(burn.owner),
            receiver=burn.receiver,
            amount=burn.amount,
            salt=burn.salt,
        )
        return SourceBurn(ticker, message, burn.signature, 0, burn.slot)


def _hex(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value).lower()
