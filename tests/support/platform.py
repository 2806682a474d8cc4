"""A real issuer wired for a test through the platform's one builder: contracts deployed on the test's
chain, a test USDC, the paper broker on replayed prices, and an authorised participant onboarded.
The chain follows the issuer's clock, as the chains `up` runs do."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from equitoken.brokers.paper import PaperBroker
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.chain.solana.stock_mint import derive_keypair
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.investors import Investor
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.service import Issuer
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer, deploy_issuer_contracts
from equitoken.platform.solana import local_solana
from equitoken.store.database import Database, sqlite_url

# Monday 2025-12-01, 10:00 New York: a regular session with replayed prices.
IN_SESSION = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
# The test chains' first block: before every market time a test runs at (the replayed data starts in
# 2019), since a chain that follows a test's clock never stamps a block earlier than the latest one.
GENESIS = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())
TICKERS = ("AAPL", "MSTR", "HOOD")  # open, permissioned and restricted profiles
ACCOUNTS = 14
USDC = 10**6
SLIPPAGE_BPS = 5
FINAL = frozenset(s for s in RequestState if s.is_final)


@dataclass
class Platform:
    """Everything a workflow test touches."""

    issuer: Issuer
    chain: EvmChain
    onchain: IssuerChain
    clock: ManualClock
    broker: PaperBroker
    usdc: Contract
    participant: Investor
    wallet: str
    other_wallet: str
    # The issuer's local Solana and the participant's wallet there, for a platform built with it.
    solana: SolanaIssuerChain | None = None
    solana_wallet: str = ""
    solana_dir: Path | None = None

    def run(self, *, step: timedelta = timedelta(minutes=1), max_rounds: int = 200) -> None:
        """Process and move the clock until no request is open."""
        for _ in range(max_rounds):
            self.issuer.process()
            if not self.issuer.requests(open_only=True):
                return
            self.clock.advance(step)
        raise AssertionError(
            f"requests still open after {max_rounds} rounds: {self.issuer.requests(open_only=True)}"
        )

    def on_solana(self, kind: RequestKind, ticker: str, quantity: str, key: str) -> str:
        """Ask to mint (paid, with USDC approved) or redeem `ticker` in the participant's Solana
        wallet, paying and paid on the EVM wallet; return the request id."""
        assert self.solana is not None, "a platform built with solana=True"
        chain, payer = self.solana.chain_id, self.wallet
        investor, wallet = self.participant.id, self.solana_wallet
        if kind is RequestKind.MINT:
            self.approve_mint(10**6 * USDC)
            request = self.issuer.request_mint
            return request(investor, wallet, ticker, quantity, key, chain_id=chain, payment_wallet=payer).id
        redeem = self.issuer.request_redeem
        return redeem(investor, wallet, ticker, quantity, key, chain_id=chain, payment_wallet=payer).id

    def token(self, ticker: str) -> Contract:
        return self.onchain.token(ticker)

    def approve_mint(self, amount_usdc: int) -> None:
        self.usdc.approve(self.onchain.roles.operator, amount_usdc, sender=self.wallet)

    def approve_redeem(self, ticker: str, amount: int) -> None:
        self.token(ticker).approve(self.onchain.roles.burner, amount, sender=self.wallet)

    def usdc_total(self) -> int:
        holders = [self.wallet, self.other_wallet, self.onchain.roles.operator]
        return sum(int(self.usdc.balanceOf(h)) for h in holders)


def build_platform(
    chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
    *,
    start: datetime = IN_SESSION,
    config: IssuerConfig | None = None,
    fill_parts: int = 2,
    solana: bool = False,
) -> Platform:
    """Deploy the issuance contracts and a test USDC, fund a participant, and wire an issuer; the chain
    follows the issuer's clock from here on. With `solana`, the issuer issues on a local Solana too
    (kept in `tmp_path / "solana"`), where the participant has a wallet of its own."""
    if chain.timestamp() > start.timestamp():
        raise ValueError(
            f"the chain's latest block is later than {start:%Y-%m-%d %H:%M} UTC, and a chain that follows "
            "the issuer's clock cannot go back: start it at GENESIS"
        )
    clock = ManualClock(start)
    chain.clock = clock
    accounts = chain.accounts
    wallet, other_wallet = accounts[10], accounts[11]
    instruments = [i for i in load_catalogue() if i.ticker in TICKERS]
    contracts = deploy_issuer_contracts(chain, instruments)
    solana_dir = tmp_path / "solana"
    svm = local_solana(clock, instruments, solana_dir) if solana else None
    usdc, roles = contracts.usdc, IssuerRoles.from_accounts(accounts)
    for holder in (wallet, other_wallet, roles.operator):
        usdc.mint(holder, 1_000_000 * USDC, sender=roles.admin)
    paper = PaperBrokerSettings(sqlite_url(tmp_path / "paper-broker.sqlite"), SLIPPAGE_BPS, fill_parts)
    assembled = assemble_issuer(
        chain,
        contracts.deployment,
        usdc.address,
        database,
        clock,
        broker=paper,
        prices=prices,
        calendar=calendar,
        config=config,
        solana=svm,
    )
    issuer, onchain, broker = assembled.issuer, assembled.onchain, assembled.broker
    assert isinstance(broker, PaperBroker)
    participant = issuer.investors.onboard(
        "Jane Street Financial Ltd",
        "GB",
        "authorised_participant",
        kyc_expires_at=start + timedelta(days=365),
    )
    issuer.investors.bind_wallet(participant.id, wallet)
    solana_wallet = ""
    if svm is not None:
        solana_wallet = str(derive_keypair(b"test participant", "wallet").pubkey())
        issuer.investors.bind_wallet(participant.id, solana_wallet)
    participant = issuer.investors.get(participant.id)
    return Platform(
        issuer,
        chain,
        onchain,
        clock,
        broker,
        usdc,
        participant,
        wallet,
        other_wallet,
        svm,
        solana_wallet,
        solana_dir if solana else None,
    )
