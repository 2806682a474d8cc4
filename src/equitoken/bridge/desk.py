"""The bridge as holders and the compliance agent use it: send tokens to another chain, follow a
transfer (burned, attested, minted or held), settle a held one, and read supply per chain.

`send` checks everything the source chain would refuse before it signs, so a refusal names the
problem and changes nothing: an unknown chain or ticker, a receiver of the wrong family, an amount
that is zero, dust below the shared decimals or more than the wallet holds, a paused pool, a
sender or receiver the token refuses, and a rate limit (with the wait it needs). On EVM the holder's
wallet approves the pool and calls `send`; on Solana it signs the memo and the burn itself. The desk
acts only for wallets whose keys the platform holds (the demo's custodied wallets).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import select

from equitoken.bridge.delivery import EvmDelivery, SolanaDelivery
from equitoken.bridge.ends import EvmEnd, SolanaEnd
from equitoken.bridge.message import BridgeMessage, MessageError, evm_address, to_shared, word
from equitoken.bridge.relayer import Relayer
from equitoken.bridge.solana_burns import bridge_out_instructions
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS
from equitoken.issuer.chains import BRIDGE_IN_FLIGHT_STATES
from equitoken.model.errors import EquitokenError
from equitoken.store.schema import BridgeEventRow, BridgeTransferRow


class BridgeRefusedError(EquitokenError, ValueError):
    """A transfer the bridge will not make; nothing was burned or signed."""

    code = "bridge_refused"


class UnknownTransferError(EquitokenError, LookupError):
    code = "unknown_bridge_transfer"


@dataclass(frozen=True)
class Burned:
    """A send's burn, and the id its transfer is known by (the bridge message's)."""

    source_tx: str
    transfer_id: str


@dataclass(frozen=True)
class TransferEvent:
    at: datetime
    state: str
    reason: str


@dataclass(frozen=True)
class TransferView:
    """A bridge transfer and where it stands."""

    id: str
    ticker: str
    source_chain: int
    dest_chain: int
    sender: str
    receiver: str
    amount: int
    state: str
    source_tx: str
    dest_tx: str | None
    reason: str | None
    returns: str | None
    created_at: datetime
    updated_at: datetime
    events: tuple[TransferEvent, ...] = ()

    @property
    def in_flight(self) -> bool:
        return self.state in BRIDGE_IN_FLIGHT_STATES


@dataclass(frozen=True)
class SupplyView:
    """One ticker's raw supply on each chain, and what is in flight to each (shared decimals = raw here)."""

    ticker: str
    supply: Mapping[int, int]
    in_flight: Mapping[int, int]


class BridgeDesk:
    """Send, follow and settle bridge transfers over the relayer's chains."""

    def __init__(
        self,
        relayer: Relayer,
        signers: SignerRegistry,
        keypairs: Mapping[str, Keypair] | None = None,
        names: Mapping[int, str] | None = None,
    ) -> None:
        self.relayer = relayer
        self.db = relayer.db
        self.signers = signers
        self.keypairs = dict(keypairs or {})
        self.names = dict(names or {})

    @property
    def chains(self) -> dict[int, str]:
        """Return the chains the bridge joins, by id, with their names (or family)."""
        return {cid: self.names.get(cid, end.family) for cid, end in self.relayer.network.ends.items()}

    @property
    def tickers(self) -> list[str]:
        return sorted({t for end in self.relayer.network.ends.values() for t in end.tickers})

    # -- sending

    def send(
        self, ticker: str, source_chain: int, wallet: str, dest_chain: int, receiver: str, amount: int
    ) -> Burned:
        """Bridge `amount` raw units of `ticker` from `wallet` on `source_chain` to `receiver` on
        `dest_chain`; return the burn. Raise BridgeRefusedError."""
        source, dest = self._end(source_chain), self._end(dest_chain)
        if source_chain == dest_chain:
            raise BridgeRefusedError("the source and destination chains are the same")
        for end in (source, dest):
            if ticker not in end.tickers:
                raise BridgeRefusedError(f"{ticker} is not bridged on chain {end.chain_id}")
        to = self._receiver(dest_chain, receiver)
        try:
            shared = to_shared(amount, source.decimals(ticker))
        except MessageError as error:
            raise BridgeRefusedError(str(error)) from None
        if isinstance(source, EvmEnd):
            return self._send_evm(source, ticker, wallet, dest_chain, to, amount, shared)
        assert isinstance(source, SolanaEnd)
        return self._send_solana(source, ticker, wallet, dest_chain, to, amount)

    def _send_evm(
        self, end: EvmEnd, ticker: str, wallet: str, dest_chain: int, to: bytes, amount: int, shared: int
    ) -> Burned:
        if wallet not in self.signers:
            raise BridgeRefusedError(f"the platform holds no key for {wallet}: call the pool's send yourself")
        pool = end.contract(ticker)
        token = end.token(ticker)
        if bool(pool.paused()) or bool(token.paused()):
            raise BridgeRefusedError(f"the {ticker} bridge on chain {end.chain_id} is paused")
        if bytes(pool.remote_pool(dest_chain)) == bytes(32):
            raise BridgeRefusedError(
                f"the {ticker} pool on chain {end.chain_id} does not send to {dest_chain}"
            )
        held = int(token.balanceOf(wallet))
        if held < amount:
            raise BridgeRefusedError(
                f"{wallet} holds {held} {ticker} units on chain {end.chain_id}, not {amount}"
            )
        target = evm_address(to) or wallet  # a Solana receiver is checked there
        code, reason = token.can_transfer(wallet, target, 0)
        if int(code):
            raise BridgeRefusedError(f"the {ticker} token refuses: {reason}")
        tokens, _, capacity, rate, enabled = pool.outbound_bucket(dest_chain)
        if enabled and shared > int(capacity):
            raise BridgeRefusedError(
                f"{shared} units are above the bridge's capacity of {int(capacity)} to {dest_chain}"
            )
        if enabled and shared > int(tokens):
            wait = -(-(shared - int(tokens)) // max(int(rate), 1))
            raise BridgeRefusedError(f"bridge: rate limited, wait {wait} s")
        token.approve.transact(pool.address, amount, sender=wallet)
        receipt = pool.send.transact(dest_chain, to, amount, amount, sender=wallet)
        sent = next(e for e in pool.decode_logs(receipt) if e.name == "Sent")
        return Burned(receipt.tx_hash, "0x" + bytes(sent.args["message_id"]).hex())

    def _send_solana(
        self, end: SolanaEnd, ticker: str, wallet: str, dest_chain: int, to: bytes, amount: int
    ) -> Burned:
        keypair = self.keypairs.get(wallet)
        if keypair is None:
            raise BridgeRefusedError(f"the platform holds no key for {wallet}: sign the bridge-out yourself")
        delivery = self.relayer.deliveries.get(end.chain_id)
        assert isinstance(delivery, SolanaDelivery)
        held = delivery.issuer.balance(ticker, wallet)
        if held < amount:
            raise BridgeRefusedError(f"{wallet} holds {held} {ticker} units on Solana, not {amount}")
        if self.relayer.network.pool(dest_chain, ticker) is None:
            raise BridgeRefusedError(f"chain {dest_chain} has no {ticker} pool")
        instructions = bridge_out_instructions(
            end.mints[ticker], keypair.pubkey(), amount, STOCK_DECIMALS, dest_chain, to
        )
        try:
            landed = end.chain.send(instructions, delivery.issuer.payer, keypair)
        except EquitokenError as error:
            raise BridgeRefusedError(f"Solana refused the bridge-out: {error}") from None
        burn = end.burn(landed.signature, 0, self.relayer.network)
        assert burn is not None, "a bridge-out the desk built is a bridge message"
        return Burned(landed.signature, burn.message.id_hex)

    def _end(self, chain_id: int) -> EvmEnd | SolanaEnd:
        try:
            end = self.relayer.network.end(chain_id)
        except LookupError as error:
            raise BridgeRefusedError(str(error)) from None
        assert isinstance(end, EvmEnd | SolanaEnd)
        return end

    def _receiver(self, chain_id: int, text: str) -> bytes:
        delivery = self.relayer.deliveries[chain_id]
        try:
            wallet = delivery.parse_wallet(text)
        except (ValueError, EquitokenError) as error:
            raise BridgeRefusedError(f"receiver: {error}") from None
        return word(wallet) if isinstance(delivery, EvmDelivery) else bytes(Pubkey.from_string(wallet))

    # -- following

    def transfers(
        self, *, ticker: str | None = None, wallet: str | None = None, limit: int = 100
    ) -> list[TransferView]:
        """Return the newest transfers, of `ticker` and from or to `wallet` if given."""
        query = select(BridgeTransferRow).order_by(BridgeTransferRow.created_at.desc(), BridgeTransferRow.id)
        if ticker is not None:
            query = query.where(BridgeTransferRow.ticker == ticker)
        if wallet is not None:
            words = {self._word_of(wallet)}
            query = query.where(BridgeTransferRow.sender.in_(words) | BridgeTransferRow.receiver.in_(words))
        with self.db.transaction() as session:
            return [self._view(row) for row in session.scalars(query.limit(limit))]

    def transfer(self, transfer_id: str) -> TransferView:
        """Return one transfer with its history; raise UnknownTransferError."""
        with self.db.transaction() as session:
            row = session.get(BridgeTransferRow, transfer_id.lower())
            if row is None:
                raise UnknownTransferError(f"no bridge transfer {transfer_id}")
            events = session.scalars(
                select(BridgeEventRow).where(BridgeEventRow.transfer_id == row.id).order_by(BridgeEventRow.id)
            )
            history = tuple(TransferEvent(e.at, e.to_state, e.reason) for e in events)
            view = self._view(row)
        return TransferView(**{**view.__dict__, "events": history})

    def supply(self, ticker: str) -> SupplyView:
        """Return `ticker`'s raw supply on every chain and what is in flight to each."""
        supply = {}
        for chain_id, end in self.relayer.network.ends.items():
            if ticker in end.tickers:
                delivery = self.relayer.deliveries[chain_id]
                supply[chain_id] = _supply(delivery, ticker)
        in_flight: dict[int, int] = {}
        with self.db.transaction() as session:
            rows = session.scalars(
                select(BridgeTransferRow).where(
                    BridgeTransferRow.ticker == ticker, BridgeTransferRow.state.in_(BRIDGE_IN_FLIGHT_STATES)
                )
            )
            for row in rows:
                in_flight[row.dest_chain] = in_flight.get(row.dest_chain, 0) + row.amount
        return SupplyView(ticker, supply, in_flight)

    def decide(self, transfer_id: str, release_to: str | None) -> TransferView:
        """Release a held transfer to `release_to`, or return it to its sender (None); the relayer
        carries it out on its next pass."""
        try:
            self.relayer.decide(transfer_id.lower(), release_to=release_to)
        except LookupError as error:
            raise UnknownTransferError(str(error)) from None
        except ValueError as error:
            raise BridgeRefusedError(str(error)) from None
        return self.transfer(transfer_id)

    def _word_of(self, wallet: str) -> str:
        if wallet.startswith("0x"):
            return "0x" + word(wallet).hex()
        return "0x" + bytes(Pubkey.from_string(wallet)).hex()

    def _view(self, row: BridgeTransferRow) -> TransferView:
        message = BridgeMessage.from_json(json.loads(row.message))
        return TransferView(
            id=row.id,
            ticker=row.ticker,
            source_chain=row.source_chain,
            dest_chain=row.dest_chain,
            sender=self._display(row.source_chain, message.sender),
            receiver=self._display(row.dest_chain, message.receiver),
            amount=row.amount,
            state=row.state,
            source_tx=row.source_tx,
            dest_tx=row.dest_tx,
            reason=row.reason,
            returns=row.returns,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _display(self, chain_id: int, data: bytes) -> str:
        end = self.relayer.network.ends.get(chain_id)
        if isinstance(end, SolanaEnd):
            return str(Pubkey(data))
        return evm_address(data) or "0x" + data.hex()


def _supply(delivery: object, ticker: str) -> int:
    if isinstance(delivery, SolanaDelivery):
        return delivery.issuer.supply(ticker)
    assert isinstance(delivery, EvmDelivery)
    return int(delivery.end.token(ticker).totalSupply())
