"""The standard Solana JSON-RPC methods wallets and SDKs use, served over a `LiteSvmChain`, as
surfpool serves them over its own SVM: what `up` offers in place of a validator.

Every answer is for the one state LiteSVM holds, so every commitment level (processed, confirmed,
finalized) sees the same thing, a landed transaction is finalized at once, and a blockhash is valid
for the chain's last `RECENT_BLOCKHASHES` transactions. Amounts of Token-2022 accounts are shown as
a cluster shows them: `uiAmount` through the mint's ScaledUiAmount multiplier in force.
"""

import base64
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from solders.account import Account
from solders.hash import Hash
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from equitoken.chain.solana.base58 import b58decode, b58encode
from equitoken.chain.solana.litesvm import RECENT_BLOCKHASHES, LiteSvmChain, TransactionRefusedError
from equitoken.chain.solana.token2022 import (
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    decode_token_account,
)

SOLANA_CORE_VERSION = "2.2.16"  # the RPC version the answers follow (ScaledUiAmount is in 2.2)
SIGNATURE_FEE_LAMPORTS = 5_000

# JSON-RPC error codes: the standard ones, and the Solana ones clients branch on.
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002


class RpcError(Exception):
    """An error answer: a JSON-RPC code, a message naming the problem, and optional data."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class SolanaRpc:
    """Answer JSON-RPC requests from one chain."""

    def __init__(self, chain: LiteSvmChain) -> None:
        self.chain = chain
        self.methods: dict[str, Callable[..., Any]] = {
            "getVersion": self.get_version,
            "getHealth": lambda *_: "ok",
            "getGenesisHash": lambda *_: str(Pubkey.default()),
            "getSlot": lambda *_: self.chain.slot(),
            "getBlockHeight": lambda *_: self.chain.slot(),
            "getBlockTime": lambda *_: self.chain.timestamp(),
            "getEpochInfo": self.get_epoch_info,
            "getLatestBlockhash": self.get_latest_blockhash,
            "isBlockhashValid": self.is_blockhash_valid,
            "getFeeForMessage": self.get_fee_for_message,
            "getRecentPrioritizationFees": lambda *_: [],
            "getMinimumBalanceForRentExemption": self.get_minimum_balance_for_rent_exemption,
            "getBalance": self.get_balance,
            "getAccountInfo": self.get_account_info,
            "getMultipleAccounts": self.get_multiple_accounts,
            "getProgramAccounts": self.get_program_accounts,
            "getTokenAccountBalance": self.get_token_account_balance,
            "getTokenAccountsByOwner": self.get_token_accounts_by_owner,
            "getTokenSupply": self.get_token_supply,
            "sendTransaction": self.send_transaction,
            "simulateTransaction": self.simulate_transaction,
            "getSignatureStatuses": self.get_signature_statuses,
            "getTransaction": self.get_transaction,
            "requestAirdrop": self.request_airdrop,
        }

    def handle(self, request: object) -> dict[str, Any] | None:
        """Answer one JSON-RPC request object; None for a notification (no id)."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
            return _error(None, RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 request"))
        ident = request.get("id")
        method = self.methods.get(request["method"])
        try:
            if method is None:
                raise RpcError(METHOD_NOT_FOUND, f"Method not found: {request['method']!r}")
            params = request.get("params", [])
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, "params must be an array")
            result = method(*params)
        except RpcError as exc:
            return _error(ident, exc)
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            return _error(ident, RpcError(INVALID_PARAMS, f"Invalid params: {exc}"))
        return {"jsonrpc": "2.0", "id": ident, "result": result}

    # -- the cluster

    def get_version(self, *_: object) -> dict[str, Any]:
        return {"solana-core": SOLANA_CORE_VERSION, "feature-set": 0}

    def get_epoch_info(self, *_: object) -> dict[str, int]:
        slot = self.chain.slot()
        return {
            "absoluteSlot": slot,
            "blockHeight": slot,
            "epoch": 0,
            "slotIndex": slot,
            "slotsInEpoch": 432_000,
            "transactionCount": self.chain.transaction_count(),
        }

    def get_latest_blockhash(self, config: dict[str, Any] | None = None) -> dict[str, Any]:
        slot = self.chain.slot()
        value = {
            "blockhash": str(self.chain.latest_blockhash()),
            "lastValidBlockHeight": slot + RECENT_BLOCKHASHES,
        }
        return self._context(value)

    def is_blockhash_valid(self, blockhash: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._context(self.chain.blockhash_valid(Hash.from_string(blockhash)))

    def get_fee_for_message(self, message: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        raw = base64.b64decode(message)
        # A message's header starts with its signature count; a versioned one after a 0x80|version byte.
        signatures = raw[1] if raw[0] & 0x80 else raw[0]
        return self._context(SIGNATURE_FEE_LAMPORTS * signatures)

    def get_minimum_balance_for_rent_exemption(self, space: int, config: object = None) -> int:
        if not isinstance(space, int) or space < 0:
            raise RpcError(INVALID_PARAMS, f"Invalid params: space {space!r} is not a byte count")
        return self.chain.rent_exempt(space)

    def request_airdrop(self, address: str, lamports: int, config: object = None) -> str:
        return self.chain.airdrop(_pubkey(address), lamports)

    # -- accounts

    def get_balance(self, address: str, config: object = None) -> dict[str, Any]:
        return self._context(self.chain.lamports(_pubkey(address)))

    def get_account_info(self, address: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        account = self.chain.account(_pubkey(address))
        return self._context(None if account is None else _account(account, _encoding(config)))

    def get_multiple_accounts(
        self, addresses: list[str], config: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        encoding = _encoding(config)
        accounts = [self.chain.account(_pubkey(a)) for a in addresses]
        return self._context([None if a is None else _account(a, encoding) for a in accounts])

    def get_program_accounts(self, program: str, config: dict[str, Any] | None = None) -> Any:
        config = config or {}
        filters = config.get("filters") or []
        found = [
            {"pubkey": str(address), "account": _account(account, _encoding(config))}
            for address, account in self.chain.program_accounts(_pubkey(program))
            if all(_matches(bytes(account.data), f) for f in filters)
        ]
        return self._context(found) if config.get("withContext") else found

    def get_token_account_balance(self, address: str, config: object = None) -> dict[str, Any]:
        data = self.chain.account_data(_pubkey(address))
        if data is None:
            raise RpcError(INVALID_PARAMS, f"Invalid param: could not find account {address}")
        try:
            account = decode_token_account(data)
        except ValueError:
            raise RpcError(INVALID_PARAMS, f"Invalid param: {address} is not a token account") from None
        return self._context(self._amount(account.mint, account.amount))

    def get_token_supply(self, mint: str, config: object = None) -> dict[str, Any]:
        return self._context(self._amount(_pubkey(mint), self.chain.mint(_pubkey(mint)).supply))

    def get_token_accounts_by_owner(
        self, owner: str, selector: dict[str, str], config: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        holder = _pubkey(owner)
        if "mint" in selector:
            mint = _pubkey(selector["mint"])
            mint_account = self.chain.account(mint)
            if mint_account is None:
                raise RpcError(INVALID_PARAMS, f"Invalid param: could not find mint {mint}")
            programs = [mint_account.owner]
        elif "programId" in selector:
            programs = [_pubkey(selector["programId"])]
            if programs[0] not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
                raise RpcError(INVALID_PARAMS, f"Invalid param: unrecognized Token program id {programs[0]}")
            mint = None
        else:
            raise RpcError(INVALID_PARAMS, "Invalid params: give a mint or a programId")
        found = []
        for program in programs:
            for address, account in self.chain.program_accounts(program):
                try:
                    state = decode_token_account(bytes(account.data))
                except ValueError:
                    continue  # a mint
                if state.owner == holder and (mint is None or state.mint == mint):
                    found.append({"pubkey": str(address), "account": _account(account, _encoding(config))})
        return self._context(found)

    # -- transactions

    def send_transaction(self, encoded: str, config: dict[str, Any] | None = None) -> str:
        transaction = _transaction(encoded, config)
        try:
            self.chain.send_raw(transaction)
        except TransactionRefusedError as exc:
            raise RpcError(
                SEND_TRANSACTION_PREFLIGHT_FAILURE,
                f"Transaction simulation failed: {exc.reason}",
                {
                    "err": exc.error,
                    "logs": list(exc.logs),
                    "accounts": None,
                    "unitsConsumed": 0,
                    "returnData": None,
                },
            ) from None
        return str(transaction.signatures[0])

    def simulate_transaction(self, encoded: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        # The blockhash is not checked in a simulation, so replaceRecentBlockhash changes nothing.
        transaction = _transaction(encoded, config)
        simulated = self.chain.simulate(transaction)
        return_data = None
        if simulated.return_data:
            program = transaction.message.account_keys[transaction.message.instructions[-1].program_id_index]
            return_data = {
                "programId": str(program),
                "data": [base64.b64encode(simulated.return_data).decode(), "base64"],
            }
        return self._context(
            {
                "err": simulated.error_detail,
                "logs": list(simulated.logs),
                "accounts": None,
                "unitsConsumed": simulated.compute_units,
                "returnData": return_data,
            }
        )

    def get_signature_statuses(self, signatures: list[str], config: object = None) -> dict[str, Any]:
        statuses: list[dict[str, Any] | None] = []
        for signature in signatures:
            landed = self.chain.landed(signature)
            statuses.append(
                None
                if landed is None
                else {
                    "slot": landed.slot,
                    "confirmations": None,
                    "err": None,
                    "status": {"Ok": None},
                    "confirmationStatus": "finalized",
                }
            )
        return self._context(statuses)

    def get_transaction(
        self, signature: str, config: dict[str, Any] | str | None = None
    ) -> dict[str, Any] | None:
        landed = self.chain.landed(signature)
        found = self.chain.transaction(signature)
        if landed is None or found is None:
            return None
        transaction, meta = found
        encoding = config if isinstance(config, str) else (config or {}).get("encoding", "json")
        if encoding == "base64":
            encoded: Any = [base64.b64encode(bytes(transaction)).decode(), "base64"]
        elif encoding == "base58":
            encoded = [b58encode(bytes(transaction)), "base58"]
        else:
            encoded = _json_transaction(transaction)
        fee = SIGNATURE_FEE_LAMPORTS * len(transaction.signatures)
        return {
            "slot": landed.slot,
            "blockTime": landed.unix_timestamp,
            "version": "legacy" if isinstance(transaction.message, Message) else 0,
            "transaction": encoded,
            "meta": {
                "err": None,
                "status": {"Ok": None},
                "fee": fee,
                "preBalances": [],
                "postBalances": [],
                "innerInstructions": [],
                "logMessages": [] if meta is None else list(meta.logs()),
                "preTokenBalances": [],
                "postTokenBalances": [],
                "rewards": [],
                "loadedAddresses": {"writable": [], "readonly": []},
                "computeUnitsConsumed": landed.compute_units,
            },
        }

    # -- helpers

    def _context(self, value: object) -> dict[str, Any]:
        return {"context": {"slot": self.chain.slot(), "apiVersion": SOLANA_CORE_VERSION}, "value": value}

    def _amount(self, mint_address: Pubkey, amount: int) -> dict[str, Any]:
        mint = self.chain.mint(mint_address)
        scaled = mint.scaled_ui_amount
        multiplier = Decimal(1) if scaled is None else Decimal(scaled.at(self.chain.timestamp()))
        shown = Decimal(amount) * multiplier / Decimal(10) ** mint.decimals
        ui = format(shown.normalize(), "f") if shown else "0"
        return {
            "amount": str(amount),
            "decimals": mint.decimals,
            "uiAmount": float(shown),
            "uiAmountString": ui,
        }


def _error(ident: object, error: RpcError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": str(error)}
    if error.data is not None:
        body["data"] = error.data
    return {"jsonrpc": "2.0", "id": ident, "error": body}


def _pubkey(text: str) -> Pubkey:
    try:
        return Pubkey.from_string(text)
    except (ValueError, TypeError):
        raise RpcError(INVALID_PARAMS, f"Invalid param: {text!r} is not a base58 public key") from None


def _encoding(config: dict[str, Any] | None) -> str:
    return str((config or {}).get("encoding", "base64"))


def _account(account: Account, encoding: str) -> dict[str, Any]:
    data = bytes(account.data)
    if encoding == "base58":
        encoded: Any = [b58encode(data), "base58"]
    else:  # base64, base64+zstd and jsonParsed fall back to base64, as a cluster does without a parser
        encoded = [base64.b64encode(data).decode(), "base64"]
    return {
        "data": encoded,
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": str(account.owner),
        "rentEpoch": account.rent_epoch,
        "space": len(data),
    }


def _matches(data: bytes, rule: dict[str, Any]) -> bool:
    if "dataSize" in rule:
        return len(data) == int(rule["dataSize"])
    if "memcmp" in rule:
        memcmp = rule["memcmp"]
        offset = int(memcmp["offset"])
        raw = memcmp["bytes"]
        wanted = base64.b64decode(raw) if memcmp.get("encoding") == "base64" else b58decode(raw)
        return data[offset : offset + len(wanted)] == wanted
    raise RpcError(INVALID_PARAMS, f"Invalid params: unknown filter {rule!r}")


def _transaction(encoded: str, config: dict[str, Any] | None) -> VersionedTransaction:
    encoding = (config or {}).get("encoding", "base58")
    try:
        raw = base64.b64decode(encoded) if encoding == "base64" else b58decode(encoded)
        return VersionedTransaction.from_bytes(raw)
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, f"Invalid params: not a {encoding} transaction ({exc})") from None


def _json_transaction(transaction: VersionedTransaction) -> dict[str, Any]:
    message = transaction.message
    header = message.header
    return {
        "signatures": [str(s) for s in transaction.signatures],
        "message": {
            "accountKeys": [str(k) for k in message.account_keys],
            "header": {
                "numRequiredSignatures": header.num_required_signatures,
                "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
            },
            "recentBlockhash": str(message.recent_blockhash),
            "instructions": [
                {
                    "programIdIndex": i.program_id_index,
                    "accounts": list(i.accounts),
                    "data": b58encode(bytes(i.data)),
                    "stackHeight": None,
                }
                for i in message.instructions
            ],
        },
    }


class SolanaRpcServer:
    """Serve `SolanaRpc` over HTTP on `host`:`port` (0: any free port) from a background thread."""

    def __init__(self, chain: LiteSvmChain, host: str = "127.0.0.1", port: int = 0) -> None:
        rpc = SolanaRpc(chain)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length))
                except json.JSONDecodeError:
                    answer: Any = _error(None, RpcError(-32700, "Parse error: the body is not JSON"))
                else:
                    answer = [rpc.handle(r) for r in body] if isinstance(body, list) else rpc.handle(body)
                payload = json.dumps(answer).encode()
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="solana-rpc", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "SolanaRpcServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
