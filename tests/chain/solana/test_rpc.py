"""The JSON-RPC endpoint `up` serves over LiteSVM, used by real clients: solana-py (directly, and as
the RPC implementation of the chain interface) and @solana/web3.js from npm."""

import asyncio
import base64
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.models import MemcmpOpts, TokenAccountOpts
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction, VersionedTransaction
from tests.support.solana_clients import install_web3js

from equitoken.chain.errors import RevertError
from equitoken.chain.solana.chain import SOLANA_LOCAL, SolanaChain
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.rpc import SolanaRpcChain
from equitoken.chain.solana.rpc_server import SolanaRpcServer
from equitoken.chain.solana.stock_mint import (
    STOCK_DECIMALS,
    MintAuthorities,
    StockMintTerms,
    create_stock_mint,
)
from equitoken.chain.solana.token2022 import (
    TOKEN_2022_PROGRAM_ID,
    associated_token_address,
    create_associated_token_account,
    freeze_account,
    mint_to_checked,
    thaw_account,
    transfer_checked,
    update_multiplier,
)
from equitoken.market.clock import ManualClock

START = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
ONE = 10**STOCK_DECIMALS
ROOT = Path(__file__).resolve().parents[3]
TERMS = StockMintTerms(
    "Apple Inc. tokenized stock", "AAPLx", "https://x/AAPLx.json", "US0378331005", "https://x/terms", True
)


@dataclass
class Served:
    """A stock mint with two thawed holders, made through the endpoint by the RPC chain."""

    local: LiteSvmChain
    rpc: SolanaRpcChain
    url: str
    clock: ManualClock
    payer: Keypair
    authorities: MintAuthorities
    mint: Pubkey
    alice: Keypair
    bob: Keypair

    def account(self, owner: Keypair) -> Pubkey:
        return associated_token_address(owner.pubkey(), self.mint)


@pytest.fixture
def served() -> Iterator[Served]:
    clock = ManualClock(START)
    local = LiteSvmChain(clock)
    server = SolanaRpcServer(local).start()
    rpc = SolanaRpcChain(server.url, SOLANA_LOCAL)
    payer, authorities, alice, bob = Keypair(), MintAuthorities.generate(), Keypair(), Keypair()
    for key in (payer, alice, bob):
        local.airdrop(key.pubkey())
    mint = create_stock_mint(rpc, payer, Keypair(), authorities, TERMS)
    freezer, minter = authorities.freezer, authorities.minter
    for holder in (alice, bob):
        account = associated_token_address(holder.pubkey(), mint)
        rpc.send(
            [
                create_associated_token_account(payer.pubkey(), holder.pubkey(), mint),
                thaw_account(account, mint, freezer.pubkey()),
            ],
            payer,
            freezer,
        )
    alice_account = associated_token_address(alice.pubkey(), mint)
    rpc.send([mint_to_checked(mint, alice_account, minter.pubkey(), 10 * ONE, 8)], payer, minter)
    yield Served(local, rpc, server.url, clock, payer, authorities, mint, alice, bob)
    rpc.close()
    server.stop()


def test_the_rpc_chain_reads_what_it_made_through_the_endpoint(served: Served) -> None:
    rpc: SolanaChain = served.rpc
    state = rpc.mint(served.mint)
    assert (state.supply, state.decimals, state.metadata["isin"]) == (10 * ONE, 8, "US0378331005")
    assert rpc.holder_balance(served.mint, served.alice.pubkey()) == 10 * ONE
    assert rpc.lamports(served.bob.pubkey()) == served.local.lamports(served.bob.pubkey()) > 0
    assert rpc.timestamp() == int(START.timestamp())
    assert rpc.rent_exempt(165) == served.local.rent_exempt(165)

    landed = rpc.send(
        [
            transfer_checked(
                served.account(served.alice),
                served.mint,
                served.account(served.bob),
                served.alice.pubkey(),
                ONE,
                8,
            )
        ],
        served.payer,
        served.alice,
    )
    assert landed == served.local.landed(landed.signature)
    assert rpc.holder_balance(served.mint, served.bob.pubkey()) == ONE


def test_the_rpc_chain_names_a_refusal_and_nothing_moves(served: Served) -> None:
    freezer = served.authorities.freezer
    served.rpc.send(
        [freeze_account(served.account(served.bob), served.mint, freezer.pubkey())], served.payer, freezer
    )
    move = transfer_checked(
        served.account(served.alice), served.mint, served.account(served.bob), served.alice.pubkey(), ONE, 8
    )
    with pytest.raises(RevertError, match="account is frozen"):
        served.rpc.send([move], served.payer, served.alice)
    assert served.rpc.holder_balance(served.mint, served.bob.pubkey()) == 0

    # A blockhash is valid for the chain's recent transactions; one from before a restart is not.
    blockhash = served.rpc.latest_blockhash()
    assert served.rpc.blockhash_valid(blockhash)
    assert not served.rpc.blockhash_valid(Hash.default())


@dataclass(frozen=True)
class SeenBySolanaPy:
    version: str
    signature: str
    status_error: object
    slot: int
    balance: tuple[str, int, str]
    owned: list[Pubkey]
    by_owner: list[Pubkey]


def test_solana_py_sends_a_token_2022_transfer_and_reads_it_back(served: Served) -> None:
    source, destination = served.account(served.alice), served.account(served.bob)

    async def scenario() -> SeenBySolanaPy:
        async with AsyncClient(served.url) as client:
            version = (await client.get_version()).value
            blockhash = (await client.get_latest_blockhash()).value.blockhash
            move = transfer_checked(source, served.mint, destination, served.alice.pubkey(), 3 * ONE, 8)
            message = Message.new_with_blockhash([move], served.alice.pubkey(), blockhash)
            signed = VersionedTransaction.from_legacy(Transaction([served.alice], message, blockhash))
            signature = (await client.send_transaction(signed)).value
            await client.confirm_transaction(signature)
            status = (await client.get_signature_statuses([signature])).value[0]
            found = (await client.get_transaction(signature, max_supported_transaction_version=0)).value
            balance = (await client.get_token_account_balance(destination)).value
            mine = TokenAccountOpts(mint=served.mint)
            owned = (await client.get_token_accounts_by_owner(served.bob.pubkey(), mine)).value
            holder = MemcmpOpts(offset=32, bytes=str(served.bob.pubkey()))
            by_owner = (await client.get_program_accounts(TOKEN_2022_PROGRAM_ID, filters=[holder])).value
            assert status is not None
            assert found is not None
            return SeenBySolanaPy(
                version.solana_core,
                str(signature),
                status.err,
                found.slot,
                (balance.amount, balance.decimals, balance.ui_amount_string),
                [a.pubkey for a in owned],
                [a.pubkey for a in by_owner],
            )

    seen = asyncio.run(scenario())
    landed = served.local.landed(seen.signature)
    assert landed is not None
    assert seen.version
    assert seen.status_error is None
    assert seen.slot == landed.slot
    assert seen.balance == (str(3 * ONE), 8, "3")
    assert seen.owned == seen.by_owner == [destination]
    assert served.rpc.holder_balance(served.mint, served.bob.pubkey()) == 3 * ONE


def test_balances_show_through_the_multiplier_from_its_effective_time(served: Served) -> None:
    authority = served.authorities.multiplier
    effective = int((START + timedelta(hours=1)).timestamp())
    served.rpc.send(
        [update_multiplier(served.mint, authority.pubkey(), 4.0, effective)], served.payer, authority
    )

    def shown() -> str:
        answer = _post(served.url, "getTokenAccountBalance", [str(served.account(served.alice))])
        return str(answer["result"]["value"]["uiAmountString"])

    assert shown() == "10"
    served.clock.set(START + timedelta(hours=1))
    assert shown() == "40"


def test_an_airdrop_through_the_endpoint_lands_and_is_confirmed(served: Served) -> None:
    wallet = Keypair().pubkey()

    async def scenario() -> int:
        async with AsyncClient(served.url) as client:
            signature = (await client.request_airdrop(wallet, 2 * 10**9)).value
            await client.confirm_transaction(signature)
            return (await client.get_balance(wallet)).value

    assert asyncio.run(scenario()) == 2 * 10**9


def test_the_fee_of_a_message_is_per_signature(served: Served) -> None:
    move = transfer_checked(
        served.account(served.alice), served.mint, served.account(served.bob), served.alice.pubkey(), ONE, 8
    )
    message = Message([move], served.payer.pubkey())  # two signers: the payer and alice
    encoded = base64.b64encode(bytes(message)).decode()
    assert _post(served.url, "getFeeForMessage", [encoded])["result"]["value"] == 2 * 5_000


def test_bad_requests_get_json_rpc_errors_that_name_the_problem(served: Served) -> None:
    assert _post(served.url, "getBalanse", [])["error"]["code"] == -32601
    bad_key = _post(served.url, "getBalance", ["not-a-key"])["error"]
    assert bad_key["code"] == -32602
    assert "not a base58 public key" in bad_key["message"]
    garbage = _post(served.url, "sendTransaction", ["AAAA", {"encoding": "base64"}])["error"]
    assert garbage["code"] == -32602
    assert "not a base64 transaction" in garbage["message"]


def test_web3js_sends_a_token_2022_transfer_and_reads_it_back(served: Served, tmp_path: Path) -> None:
    modules = install_web3js()
    script = ROOT / "tests" / "chain" / "solana" / "web3js_transfer.mjs"
    arguments = {
        "url": served.url,
        "mint": str(served.mint),
        "source": str(served.account(served.alice)),
        "destination": str(served.account(served.bob)),
        "owner": list(bytes(served.alice)),
        "amount": str(2 * ONE),
    }
    done = subprocess.run(
        ["node", str(script), json.dumps(arguments)],
        env={"NODE_PATH": str(modules), "PATH": "/usr/bin:/bin:/usr/local/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    landed = served.local.landed(seen["signature"])
    assert landed is not None
    assert seen["slot"] == landed.slot
    assert seen["balance"] == {"amount": str(2 * ONE), "decimals": 8, "uiAmountString": "2"}
    assert (seen["status"], seen["accountAmount"]) == ("finalized", str(2 * ONE))
    assert served.local.token_account(served.account(served.bob)).amount == 2 * ONE  # type: ignore[union-attr]


def _post(url: str, method: str, params: list[object]) -> dict[str, Any]:
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
    assert isinstance(answer, dict)
    return answer
