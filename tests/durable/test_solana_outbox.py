"""The Solana outbox, in process on LiteSVM and through the JSON-RPC endpoint: a purpose is one
transaction that takes effect, whatever is run again, refused, or left unsent until its blockhash dies."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer
from sqlalchemy import select

from equitoken.chain.solana.chain import SolanaChain
from equitoken.chain.solana.litesvm import RECENT_BLOCKHASHES, LiteSvmChain
from equitoken.chain.solana.rpc import SolanaRpcChain
from equitoken.chain.solana.rpc_server import SolanaRpcServer
from equitoken.durable.outbox import TxOutcome, TxStatus
from equitoken.durable.solana_outbox import SolanaCall, SolanaOutbox
from equitoken.market.clock import ManualClock
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import ChainTransactionRow

START = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
SOL = 10**9


@pytest.fixture(params=["litesvm", "rpc"])
def chains(request: pytest.FixtureRequest) -> Iterator[tuple[LiteSvmChain, SolanaChain]]:
    """The LiteSVM, and the chain the outbox uses: the same, or the RPC chain on its endpoint."""
    local = LiteSvmChain(ManualClock(START))
    if request.param == "litesvm":
        yield local, local
        return
    server = SolanaRpcServer(local).start()
    rpc = SolanaRpcChain(server.url, local.chain_id)
    yield local, rpc
    rpc.close()
    server.stop()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(sqlite_url(tmp_path / "outbox.sqlite"))
    db.migrate()
    yield db
    db.close()


def _pay(payer: Keypair, to: Keypair, lamports: int) -> SolanaCall:
    move = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to.pubkey(), lamports=lamports))
    return SolanaCall([move], payer)


def _run(outbox: SolanaOutbox, database: Database, purpose: str, call: SolanaCall) -> TxOutcome:
    recorded: list[TxOutcome] = []
    outcome = outbox.run(
        database, purpose, call, owner="test", now=lambda: START, record=lambda _, o: recorded.append(o)
    )
    assert len(recorded) == (1 if outcome.new else 0)  # recorded the first time only
    return outcome


def test_a_purpose_lands_once_however_often_it_is_run(
    chains: tuple[LiteSvmChain, SolanaChain], database: Database
) -> None:
    local, chain = chains
    payer, payee = Keypair(), Keypair()
    local.airdrop(payer.pubkey(), SOL)
    outbox = SolanaOutbox(chain)

    first = _run(outbox, database, "pay:1", _pay(payer, payee, 1_000_000))
    again = _run(outbox, database, "pay:1", _pay(payer, payee, 1_000_000))

    assert (first.status, first.new, again.new) == (TxStatus.CONFIRMED, True, False)
    assert again.tx_hash == first.tx_hash
    assert local.lamports(payee.pubkey()) == 1_000_000
    assert local.landed(first.tx_hash) is not None


def test_a_refused_transaction_is_recorded_failed_with_its_reason(
    chains: tuple[LiteSvmChain, SolanaChain], database: Database
) -> None:
    local, chain = chains
    payer, payee = Keypair(), Keypair()
    local.airdrop(payer.pubkey(), SOL)

    outcome = _run(SolanaOutbox(chain), database, "pay:too-much", _pay(payer, payee, 10 * SOL))

    assert outcome.status is TxStatus.FAILED
    assert outcome.error is not None
    assert local.lamports(payee.pubkey()) == 0


def test_a_transaction_stored_and_never_sent_is_signed_again_once_its_blockhash_dies(
    chains: tuple[LiteSvmChain, SolanaChain], database: Database
) -> None:
    local, chain = chains
    payer, payee, other = Keypair(), Keypair(), Keypair()
    for key in (payer, other):
        local.airdrop(key.pubkey(), SOL)
    outbox = SolanaOutbox(chain)
    call = _pay(payer, payee, 2_000_000)
    # As a process killed between storing and sending leaves it.
    with database.transaction() as session:
        stored = outbox._store(session, "pay:late", call, "test", START)
        old_signature = stored.tx_hash
    for _ in range(RECENT_BLOCKHASHES):  # the cluster moves on until that blockhash has expired
        local.send([*_pay(payer, other, 1).instructions], payer)
    assert local.landed(old_signature) is None

    outcome = _run(outbox, database, "pay:late", call)

    assert outcome.status is TxStatus.CONFIRMED
    assert outcome.tx_hash != old_signature
    assert local.landed(old_signature) is None
    assert local.lamports(payee.pubkey()) == 2_000_000
    with database.transaction() as session:
        rows = list(
            session.scalars(select(ChainTransactionRow).where(ChainTransactionRow.purpose == "pay:late"))
        )
    assert [r.tx_hash for r in rows] == [outcome.tx_hash]
