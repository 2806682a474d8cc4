"""One issuer on two anvil nodes ("ethereum" 31337 and "base" 8453) and a local Solana, with a token pool
beside each token, attesters as their own processes reading the chains over JSON-RPC, and the
relayer; tokens minted through the real workflow, so custody backs every chain's supply."""

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from eth_account import Account
from eth_utils.crypto import keccak
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from tests.support.platform import ACCOUNTS, GENESIS, USDC, Platform, build_platform

from equitoken.bridge.assemble import EvmSide, SolanaSide, attester_config, join_all, relayer, write_config
from equitoken.bridge.attester_client import AttesterClient, AttesterProcess
from equitoken.bridge.deployment import PoolDeployment, deploy_pools
from equitoken.bridge.ends import EvmEnd
from equitoken.bridge.message import word
from equitoken.bridge.relayer import AttesterSet, Relayer
from equitoken.bridge.solana_burns import bridge_out_instructions
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles, deploy_issuance
from equitoken.chain.solana.rpc_server import SolanaRpcServer
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS, derive_keypair
from equitoken.chain.solana.token2022 import create_associated_token_account
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import BridgeTransferRow

ETHEREUM, BASE = 31337, 8453
TICKERS = ("AAPL", "MSTR", "HOOD")
ONE = 10**STOCK_DECIMALS
THRESHOLD = 2


@dataclass
class BridgeWorld:
    """The chains, the issuer, the pools, the attesters and the relayer of one test module."""

    platform: Platform
    base: IssuerChain
    issuer: Issuer
    pools: dict[int, PoolDeployment]
    evm: list[EvmSide]
    solana: SolanaSide
    attesters: list[AttesterProcess]
    attester_keys: list[str]
    config: Path
    database: Database
    relayer: Relayer = field(init=False)

    def __post_init__(self) -> None:
        self.relayer = self.new_relayer()

    def new_relayer(
        self, attesters: Sequence[AttesterProcess] | None = None, *, extra: Sequence[AttesterClient] = ()
    ) -> Relayer:
        """Return a relayer asking `attesters` (all running ones by default), then the `extra` clients."""
        chosen = [a for a in (self.attesters if attesters is None else attesters) if a.url is not None]
        members = [Account.from_key(k).address for k in self.attester_keys]
        return relayer(
            self.database,
            self.platform.clock,
            self.evm,
            self.solana,
            [*(a.client() for a in chosen), *extra],
            AttesterSet(members, THRESHOLD),
            self.issuer,
        )

    @property
    def wallet(self) -> str:
        return self.platform.wallet

    @property
    def solana_wallet(self) -> Keypair:
        return derive_keypair(b"test participant", "wallet")

    def chain_of(self, chain_id: int) -> IssuerChain:
        return self.platform.onchain if chain_id == ETHEREUM else self.base

    def token(self, chain_id: int, ticker: str) -> Contract:
        return self.chain_of(chain_id).token(ticker)

    def pool(self, chain_id: int, ticker: str) -> Contract:
        end = EvmEnd(self.chain_of(chain_id).chain, self.pools[chain_id].pools)
        return end.contract(ticker)

    def send(
        self, source: int, ticker: str, dest: int, receiver: bytes, amount: int, *, sender: str | None = None
    ) -> str:
        """Send from an EVM chain as the participant (or `sender`): approve the pool, then `send`;
        return the message id."""
        holder = sender or self.wallet
        pool = self.pool(source, ticker)
        self.token(source, ticker).approve(pool.address, amount, sender=holder)
        receipt = pool.send.transact(dest, receiver, amount, amount, sender=holder)
        sent = [e for e in pool.decode_logs(receipt) if e.name == "Sent"]
        return "0x" + bytes(sent[0].args["message_id"]).hex()

    def bridge_out(self, ticker: str, dest: int, receiver: bytes, amount: int) -> str:
        """Bridge out of Solana as the participant's Solana wallet; return the burn's signature."""
        holder, solana = self.solana_wallet, self.solana.chain
        mint = solana.deployment.mint(ticker)
        instructions = bridge_out_instructions(mint, holder.pubkey(), amount, STOCK_DECIMALS, dest, receiver)
        return solana.chain.send(instructions, solana.payer, holder).signature

    def supply(self, ticker: str) -> dict[int, int]:
        """Return `ticker`'s raw supply on every chain."""
        return {
            ETHEREUM: int(self.token(ETHEREUM, ticker).totalSupply()),
            BASE: int(self.token(BASE, ticker).totalSupply()),
            self.solana.chain.chain_id: self.solana.chain.supply(ticker),
        }

    def in_flight(self, ticker: str) -> int:
        """Return the shared units of `ticker` burned and not minted, by the relayer's records."""
        with self.database.transaction() as session:
            rows = session.query(BridgeTransferRow).filter(
                BridgeTransferRow.ticker == ticker,
                BridgeTransferRow.state.in_(["burned", "attested", "held"]),
            )
            return sum(r.amount for r in rows)

    def relay(self, rounds: int = 5, relayer: Relayer | None = None) -> None:
        """Run the relayer (or `relayer`) until it has nothing left to do (or `rounds` passes)."""
        for _ in range(rounds):
            self.platform.clock.advance(timedelta(seconds=15))
            if (relayer or self.relayer).process() == 0:
                return

    def transfer(self, message_id: str) -> BridgeTransferRow:
        with self.database.transaction() as session:
            row = session.get(BridgeTransferRow, message_id)
            assert row is not None, f"no transfer {message_id}"
            session.expunge(row)
            return row


def fresh_wallet(name: str) -> str:
    """Return an EVM address no role or participant holds (the first ten dev accounts hold roles)."""
    return str(Account.from_key(keccak(text=f"bridge test wallet {name}")).address)


def evm_word(address: str) -> bytes:
    return word(address)


def solana_word(pubkey: Pubkey) -> bytes:
    return bytes(pubkey)


def mint_through_workflow(
    platform: Platform, issuer: Issuer, ticker: str, chain_id: int, wallet: str, n: str
) -> None:
    """Mint `n` shares of `ticker` to `wallet` on `chain_id` through the issuer's workflow."""
    platform.approve_mint(10**6 * USDC)
    issuer.request_mint(
        platform.participant.id,
        wallet,
        ticker,
        n,
        f"seed-{ticker}-{chain_id}",
        chain_id=chain_id,
        payment_wallet=platform.wallet,
    )
    for _ in range(200):
        issuer.process()
        if not issuer.requests(open_only=True):
            return
        platform.clock.advance(timedelta(minutes=1))
    raise AssertionError(f"the seed mint did not complete: {issuer.requests(open_only=True)}")


@contextmanager
def bridge_world(
    tmp_path: Path, prices: ReplayPriceSource, calendar: MarketCalendar, *, attesters: int = 3
) -> Iterator[BridgeWorld]:
    """Build the world; stop its processes and nodes afterwards."""
    with ExitStack() as stack:
        nodes = [
            stack.enter_context(
                AnvilNode(
                    chain_id=chain_id,
                    accounts=ACCOUNTS,
                    timestamp=GENESIS,
                    log_file=tmp_path / f"anvil-{chain_id}.log",
                )
            )
            for chain_id in (ETHEREUM, BASE)
        ]
        ethereum, base_chain = (stack.enter_context(node.chain()) for node in nodes)
        signers = SignerRegistry.anvil(ACCOUNTS)
        ethereum.signers = base_chain.signers = signers
        database = Database(sqlite_url(tmp_path / "bridge.sqlite"))
        database.migrate()
        platform = build_platform(ethereum, database, prices, calendar, tmp_path, solana=True)
        base_chain.clock = platform.clock
        roles = IssuerRoles.from_accounts(base_chain.accounts)
        instruments = [i for i in load_catalogue() if i.ticker in TICKERS]
        base_issuance = deploy_issuance(base_chain, roles, instruments)
        base = IssuerChain(base_chain, base_issuance, roles, platform.onchain.usdc.address)
        assert platform.solana is not None
        issuer = Issuer(
            database,
            platform.onchain,
            platform.broker,
            prices,
            platform.clock,
            [i for i in instruments if i.ticker in prices.tickers()],
            None,
            (platform.onchain, base, platform.solana),
        )
        keys = ["0x" + bytes([index + 1]).rjust(32, b"\x07").hex() for index in range(attesters)]
        members = [Account.from_key(k).address for k in keys]
        pools = {
            ETHEREUM: deploy_pools(ethereum, platform.onchain.deployment, roles, members, THRESHOLD),
            BASE: deploy_pools(base_chain, base_issuance, roles, members, THRESHOLD),
        }
        solana_server = SolanaRpcServer(platform.solana.chain, "127.0.0.1", 0).start()  # type: ignore[arg-type]
        stack.callback(solana_server.stop)
        hold = derive_keypair(b"bridge", "hold")
        solana = SolanaSide(platform.solana, solana_server.url, hold)
        evm = [
            EvmSide(platform.onchain, pools[ETHEREUM], nodes[0].url),
            EvmSide(base, pools[BASE], nodes[1].url),
        ]
        join_all(evm, solana)
        config = write_config(tmp_path / "bridge.json", attester_config(evm, solana))
        processes = []
        for index, key in enumerate(keys):
            key_file = tmp_path / f"attester-{index}.key"
            key_file.write_text(key)
            process = AttesterProcess(key_file, config, log_file=tmp_path / f"attester-{index}.log")
            stack.callback(process.stop)
            processes.append(process)
        # Launched together, they import the platform in parallel; each dies with this thread.
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_ready()
        world = BridgeWorld(platform, base, issuer, pools, evm, solana, processes, keys, config, database)
        # The participant's Solana wallet pays its own fees; the hold wallet's account exists for returns.
        platform.solana.chain.airdrop(world.solana_wallet.pubkey())  # type: ignore[attr-defined]
        for ticker in TICKERS:
            mint = platform.solana.deployment.mint(ticker)
            platform.solana.chain.send(
                [create_associated_token_account(platform.solana.payer.pubkey(), hold.pubkey(), mint)],
                platform.solana.payer,
            )
        yield world
