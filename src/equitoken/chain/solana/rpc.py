"""A Solana cluster through its JSON-RPC (devnet, mainnet, or the endpoint `up` serves), on solana-py.

solana-py's client is asynchronous; the chain interface is not, so the client lives on an event loop
of its own thread and each call waits for its answer. Commitment is `confirmed` throughout: a
transaction counts as landed once a supermajority voted on its block, which on a real cluster is
about a second after it is processed and has never been rolled back.
"""

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.rpc.requests import IsBlockhashValid
from solders.rpc.responses import IsBlockhashValidResp
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_status import EncodedConfirmedTransactionWithStatusMeta

from equitoken.chain.errors import ChainError, RevertError
from equitoken.chain.solana.chain import Landed, Simulated, SolanaChain
from equitoken.chain.solana.token2022 import explain

T = TypeVar("T")
_CALL_TIMEOUT = 60.0


class SolanaRpcChain(SolanaChain):
    """A cluster at `url`, known to the platform as `chain_id` (see `SOLANA_CHAIN_IDS`)."""

    def __init__(self, url: str, chain_id: int) -> None:
        self.url = url
        self.chain_id = chain_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="solana-rpc-client", daemon=True)
        self._thread.start()
        self._client = self._call(self._open(url))

    @staticmethod
    async def _open(url: str) -> AsyncClient:
        return AsyncClient(url, commitment=Confirmed)

    def close(self) -> None:
        self._call(self._client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def latest_blockhash(self) -> Hash:
        return self._call(self._client.get_latest_blockhash()).value.blockhash

    def blockhash_valid(self, blockhash: Hash) -> bool:
        # solana-py has no method for isBlockhashValid; its provider sends any request solders models.
        body = IsBlockhashValid(blockhash)
        answer = self._call(self._client._provider.make_request(body, IsBlockhashValidResp))
        return bool(answer.value)

    def send_raw(self, transaction: Transaction | VersionedTransaction) -> None:
        try:
            self._call(self._client.send_raw_transaction(bytes(transaction)))
        except RPCException as exc:
            raise RevertError(_reason(exc), tx_hash=str(transaction.signatures[0])) from None

    def simulate(self, transaction: Transaction) -> Simulated:
        versioned = VersionedTransaction.from_legacy(transaction)
        value = self._call(self._client.simulate_transaction(versioned, sig_verify=True)).value
        return_data = b"" if value.return_data is None else bytes(value.return_data.data)
        return Simulated(
            None if value.err is None else str(value.err),
            tuple(value.logs or ()),
            value.units_consumed or 0,
            return_data,
        )

    def landed(self, signature: str) -> Landed | None:
        key = Signature.from_string(signature)
        status = self._call(
            self._client.get_signature_statuses([key], search_transaction_history=True)
        ).value[0]
        if (
            status is None
            or status.confirmation_status is None
            or str(status.confirmation_status).endswith("Processed")
        ):
            return None
        found = self._transaction(key)
        if found is None:  # confirmed, and not yet served by the history: ask again later
            return None
        error = None if status.err is None else str(status.err)
        return Landed(signature, found.slot, found.block_time or 0, _units(found), error)

    def confirmed_transaction(self, signature: str) -> tuple[Landed, VersionedTransaction] | None:
        found = self._transaction(Signature.from_string(signature))
        if found is None:
            return None
        meta, transaction = found.transaction.meta, found.transaction.transaction
        if (meta is not None and meta.err is not None) or not isinstance(transaction, VersionedTransaction):
            return None
        return Landed(signature, found.slot, found.block_time or 0, _units(found)), transaction

    def slot(self) -> int:
        return self._call(self._client.get_slot()).value

    def account_data(self, address: Pubkey) -> bytes | None:
        account = self._call(self._client.get_account_info(address)).value
        return None if account is None else bytes(account.data)

    def lamports(self, address: Pubkey) -> int:
        return self._call(self._client.get_balance(address)).value

    def rent_exempt(self, space: int) -> int:
        return self._call(self._client.get_minimum_balance_for_rent_exemption(space)).value

    def timestamp(self) -> int:
        slot = self._call(self._client.get_slot()).value
        return self._call(self._client.get_block_time(slot)).value or 0

    def _transaction(self, key: Signature) -> EncodedConfirmedTransactionWithStatusMeta | None:
        """Return the confirmed transaction `key` names as the cluster encodes it, or None."""
        return self._call(
            self._client.get_transaction(key, encoding="base64", max_supported_transaction_version=0)
        ).value

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(_CALL_TIMEOUT)
        except SolanaRpcException as exc:
            raise ChainError(f"Solana RPC at {self.url} failed: {exc}") from exc


def _units(found: EncodedConfirmedTransactionWithStatusMeta) -> int:
    meta = found.transaction.meta
    return 0 if meta is None or meta.compute_units_consumed is None else meta.compute_units_consumed


def _reason(error: RPCException) -> str:
    """Return why the cluster refused a transaction: the Token program's error by name if it gave one."""
    detail = error.args[0] if error.args else error
    message = getattr(detail, "message", str(detail))
    logs = getattr(getattr(detail, "data", None), "logs", None) or []
    failure = next((line for line in reversed(logs) if "failed" in line or "Error" in line), None)
    return (explain(failure) if failure else None) or message
