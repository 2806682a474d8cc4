"""What the indexer follows on one chain: an issuance deployment's contracts, settlement tokens, events.

``IndexedChain`` names a chain, the ``IssuanceDeployment`` on it, the settlement tokens (the
stablecoin trades and deposits are paid in) and how deep a block must be buried before it is indexed.
``WatchedContracts`` knows every watched address, and turns the raw logs of a block range into
``ChainEvent`` records, in chain order. A settlement token is journaled as its own kind of source:
its Transfers are kept for reads like ``IndexReader.transfers_to`` and never count as stock holdings.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from equitoken.chain.evm.abi import AbiItem, decode_event, event_topic
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.chain.evm.types import Log
from equitoken.indexer.errors import IndexerConfigError
from equitoken.model.address import checksum

DEFAULT_CONFIRMATIONS = 2
DEFAULT_BATCH_BLOCKS = 500
DEFAULT_REORG_WINDOW = 1_000


class Source(StrEnum):
    """The kind of contract an event comes from."""

    TOKEN = "token"
    REGISTRY = "registry"
    PRICE_FEED = "price"
    RESERVE_FEED = "reserve"
    SETTLEMENT = "settlement"


# The events the indexer journals, per kind of contract. Role and configuration events are left out.
_EVENTS: Mapping[Source, tuple[str, tuple[str, ...]]] = {
    Source.TOKEN: (
        "token/StockToken.vy",
        (
            "Transfer",
            "UIMultiplierUpdated",
            "PendingUIMultiplierCancelled",
            "AddressFrozen",
            "TokensFrozen",
            "TokensUnfrozen",
            "ForcedTransfer",
            "WalletRecovered",
        ),
    ),
    Source.REGISTRY: (
        "compliance/IdentityRegistry.vy",
        ("InvestorSet", "InvestorFrozen", "WalletAdded", "WalletRemoved"),
    ),
    Source.PRICE_FEED: ("oracle/PriceFeed.vy", ("NewRound", "AnswerUpdated", "MarketStatusChanged")),
    Source.RESERVE_FEED: ("oracle/ReserveFeed.vy", ("NewRound", "AnswerUpdated", "MarketStatusChanged")),
    # Any ERC-20 emits this Transfer; the test USDC's ABI stands for all of them.
    Source.SETTLEMENT: ("settlement/TestUSDC.vy", ("Transfer",)),
}
MAX_SYMBOL_LENGTH = 10  # the journal's ticker column


@dataclass(frozen=True)
class IndexedChain:
    """A chain to index: the node, the deployment on it, and the indexing settings.

    ``settlement_tokens`` maps a symbol (``"USDC"``) to the address of an ERC-20 whose Transfers are
    journaled too, e.g. for the exchange's deposits; they never count as stock holdings or supply.
    ``confirmations`` is how many blocks must follow a block before it is indexed (0: index the head).
    ``start_block`` is where indexing begins (the deployment's first block saves scanning older ones).
    ``batch_blocks`` bounds the block range of one batch (one database transaction).
    ``reorg_window`` is how many blocks back the hashes kept to find a common ancestor reach; a chain
    that parted from ours deeper than that is reindexed from ``start_block``.
    """

    chain: EvmChain
    deployment: IssuanceDeployment
    settlement_tokens: Mapping[str, str] = field(default_factory=dict)
    confirmations: int = DEFAULT_CONFIRMATIONS
    start_block: int = 0
    batch_blocks: int = DEFAULT_BATCH_BLOCKS
    reorg_window: int = DEFAULT_REORG_WINDOW

    def __post_init__(self) -> None:
        if self.confirmations < 0:
            raise IndexerConfigError(f"confirmations must be 0 or more, got {self.confirmations}")
        if self.start_block < 0:
            raise IndexerConfigError(f"start_block must be 0 or more, got {self.start_block}")
        if self.batch_blocks < 1:
            raise IndexerConfigError(f"batch_blocks must be at least 1, got {self.batch_blocks}")
        if self.reorg_window < 1:
            raise IndexerConfigError(f"reorg_window must be at least 1, got {self.reorg_window}")
        object.__setattr__(self, "settlement_tokens", self._checked_settlement_tokens())

    def _checked_settlement_tokens(self) -> dict[str, str]:
        if not isinstance(self.settlement_tokens, Mapping):
            raise IndexerConfigError(
                f"settlement_tokens must map a symbol to an address, got {self.settlement_tokens!r}"
            )
        tickers = {i.ticker for i in self.deployment.instruments}
        checked: dict[str, str] = {}
        for symbol, address in self.settlement_tokens.items():
            if not (
                isinstance(symbol, str) and 0 < len(symbol) <= MAX_SYMBOL_LENGTH and symbol.isprintable()
            ):
                raise IndexerConfigError(
                    f"settlement token symbol {symbol!r} must be 1 to {MAX_SYMBOL_LENGTH} printable "
                    "characters"
                )
            if symbol in tickers:
                raise IndexerConfigError(
                    f"settlement token {symbol!r} has the ticker of a stock token of the deployment"
                )
            try:
                checked[symbol] = checksum(address)
            except ValueError as exc:
                raise IndexerConfigError(f"settlement token {symbol!r}: {exc}") from exc
        return checked

    @property
    def chain_id(self) -> int:
        """Return the chain id of the deployment (the node must serve the same one)."""
        return self.deployment.chain_id


@dataclass(frozen=True)
class Contract:
    """A watched contract: its kind and, for tokens and feeds, the instrument it belongs to."""

    address: str
    source: Source
    ticker: str | None


@dataclass(frozen=True)
class ChainEvent:
    """A decoded event of a watched contract, and exactly where the chain emitted it."""

    chain_id: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    contract: Contract
    name: str
    args: Mapping[str, Any]

    def args_json(self) -> str:
        """Return the arguments as JSON (bytes as 0x-hex, integers exact)."""
        return json.dumps({k: _jsonable(v) for k, v in self.args.items()}, sort_keys=True)


class WatchedContracts:
    """The contracts of one deployment, and the decoding of their logs."""

    def __init__(
        self, deployment: IssuanceDeployment, settlement_tokens: Mapping[str, str] | None = None
    ) -> None:
        self.chain_id = deployment.chain_id
        contracts = [Contract(checksum(deployment.identity_registry), Source.REGISTRY, None)]
        for instrument in deployment.instruments:
            contracts += [
                Contract(checksum(instrument.token), Source.TOKEN, instrument.ticker),
                Contract(checksum(instrument.price_feed), Source.PRICE_FEED, instrument.ticker),
                Contract(checksum(instrument.reserve_feed), Source.RESERVE_FEED, instrument.ticker),
            ]
        contracts += [
            Contract(checksum(address), Source.SETTLEMENT, symbol)
            for symbol, address in (settlement_tokens or {}).items()
        ]
        self.by_address: dict[str, Contract] = {}
        for contract in contracts:
            first = self.by_address.setdefault(contract.address, contract)
            if first is not contract:
                raise IndexerConfigError(
                    f"chain {self.chain_id}: {contract.address} is listed twice "
                    f"(as {_role(first)} and as {_role(contract)}); watch each contract once"
                )
        self.tokens = {c.ticker: c.address for c in contracts if c.source is Source.TOKEN}
        self.settlement_tokens = {c.ticker: c.address for c in contracts if c.source is Source.SETTLEMENT}
        self._events = {source: _event_abis(path, names) for source, (path, names) in _EVENTS.items()}

    @property
    def addresses(self) -> list[str]:
        """Return every watched address."""
        return list(self.by_address)

    def decode(self, logs: Iterable[Log]) -> list[ChainEvent]:
        """Return the watched events among ``logs``, in (block, log index) order; others are skipped."""
        events = []
        for log in sorted(logs, key=lambda entry: (entry.block_number, entry.log_index)):
            contract = self.by_address.get(log.address)
            if contract is None or not log.topics:
                continue
            item = self._events[contract.source].get(log.topics[0])
            if item is None:
                continue
            decoded = decode_event(item, log)
            events.append(
                ChainEvent(
                    self.chain_id,
                    log.block_number,
                    log.block_hash,
                    log.tx_hash,
                    log.log_index,
                    contract,
                    decoded.name,
                    decoded.args,
                )
            )
        return events


def _role(contract: Contract) -> str:
    return f"the {contract.source.value} contract of {contract.ticker or 'the deployment'}"


def _event_abis(path: str, names: Sequence[str]) -> dict[bytes, AbiItem]:
    abi = compile_contract(path).abi
    items = {str(i["name"]): i for i in abi if i.get("type") == "event"}
    missing = [n for n in names if n not in items]
    if missing:
        raise IndexerConfigError(f"{path} has no event {', '.join(missing)}: the indexer is out of date")
    return {event_topic(items[n]): items[n] for n in names}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
