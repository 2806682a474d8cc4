"""Demo data for a fresh local platform: an authorised participant, three retail investors with dev
wallets, test USDC, a first mint so holdings and reserves are not empty, and API keys for each.

Every step finds what an earlier, maybe interrupted, run did before doing it: investors are found by
name, wallets are bound once, USDC is topped up to a target, the mint has a fixed idempotency key and
the hand-out to retail wallets checks their balances. `demo.json` in the data directory records what
is done, so a restart does none of it again; `api-keys.json` keeps the keys (the database keeps only
their hashes), so they stay the same across restarts.
"""

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from solders.system_program import TransferParams, transfer

from equitoken.api.keys import ApiKeys, Role
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.solana.litesvm import LAMPORTS_PER_SOL
from equitoken.chain.solana.stock_mint import derive_keypair
from equitoken.issuer.investors import Investor, InvestorCategory
from equitoken.model.time import Clock
from equitoken.platform.local import ACCOUNTS, USDC, LocalIssuer
from equitoken.platform.solana import LOCAL_SEED

SEED_FILE = "demo.json"
KEYS_FILE = "api-keys.json"
DEMO_TICKER = "AAPL"
DEMO_MINT_SHARES = 10
RETAIL_SHARE_UNITS = 10**8  # one AAPLx (8 decimals) to each retail wallet
PARTICIPANT_USDC = 1_000_000 * USDC
RETAIL_USDC = 10_000 * USDC
KYC_VALIDITY = timedelta(days=3 * 365)
SOLANA_WALLET_FILE = "participant-wallet.json"
PARTICIPANT_SOL = 10 * LAMPORTS_PER_SOL


@dataclass(frozen=True)
class DemoInvestor:
    """Who the demo onboards, and which dev wallet (anvil account 10-19) it gets."""

    name: str
    jurisdiction: str
    category: InvestorCategory
    account: int


PARTICIPANT = DemoInvestor("Northbridge Markets Ltd", "GB", InvestorCategory.AUTHORISED_PARTICIPANT, 10)
RETAIL = (
    DemoInvestor("Amelia Clarke", "GB", InvestorCategory.RETAIL, 11),  # a treaty country
    DemoInvestor("Tan Wei Ling", "SG", InvestorCategory.RETAIL, 12),  # the default rules
    DemoInvestor("Lukas Becker", "DE", InvestorCategory.RETAIL, 13),
)


@dataclass(frozen=True)
class DemoKey:
    """An API key of the demo, and what it may do."""

    role: str
    name: str
    investor_id: str | None
    key: str
    can: str


@dataclass
class SeedRecord:
    """What the demo seed has done so far (`demo.json`)."""

    investors: dict[str, str]  # name -> investor id
    mint_request: str
    handed_out: bool = False

    def save(self, path: Path) -> None:
        """Write the record atomically."""
        _write_json(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> "SeedRecord | None":
        """Return the record at `path`, or None if the demo was never seeded there."""
        return cls(**json.loads(path.read_text())) if path.is_file() else None


class DemoSeed:
    """Seed a local platform's demo data, once."""

    def __init__(self, local: LocalIssuer, data_dir: Path) -> None:
        self.local = local
        self.path = data_dir / SEED_FILE
        self.keys_path = data_dir / KEYS_FILE
        self.record = SeedRecord.load(self.path)

    @property
    def seeded(self) -> bool:
        return self.record is not None

    def seed(self) -> SeedRecord:
        """Onboard, fund and place the first mint unless an earlier run did; return the record."""
        if self.record is not None:
            return self.record
        issuer = self.local.issuer
        wallets = SignerRegistry.anvil(ACCOUNTS).addresses
        investors: dict[str, str] = {}
        for demo in (PARTICIPANT, *RETAIL):
            investor = self._onboard(demo, wallets[demo.account], self.local.clock)
            investors[demo.name] = investor.id
            target = PARTICIPANT_USDC if demo is PARTICIPANT else RETAIL_USDC
            balance = int(self.local.onchain.usdc.balanceOf(wallets[demo.account]))
            self.local.fund_dev_wallet(wallets[demo.account], max(0, target - balance))
        mint = issuer.request_mint(
            investors[PARTICIPANT.name],
            wallets[PARTICIPANT.account],
            DEMO_TICKER,
            str(DEMO_MINT_SHARES),
            "demo-seed-first-mint",
        )
        self.record = SeedRecord(investors, mint.id)
        self.record.save(self.path)
        return self.record

    def hand_out(self) -> bool:
        """Once the first mint has settled, give each retail wallet one token; return whether done."""
        record = self.record
        if record is None or record.handed_out:
            return True
        mint = self.local.issuer.request(record.mint_request)
        if not mint.state.is_final:
            return False
        if mint.tokens_settled:
            wallets = SignerRegistry.anvil(ACCOUNTS).addresses
            token = self.local.onchain.token(DEMO_TICKER)
            for demo in RETAIL:
                if int(token.balanceOf(wallets[demo.account])) == 0:
                    token.transfer(
                        wallets[demo.account], RETAIL_SHARE_UNITS, sender=wallets[PARTICIPANT.account]
                    )
        record.handed_out = True
        record.save(self.path)
        return True

    def bind_solana_wallet(self) -> tuple[str, Path] | None:
        """Bind the participant's Solana wallet (once) and keep its lamports topped up; return it and
        its keypair file (the Solana CLI's format), or None without a local Solana."""
        solana, record = self.local.solana, self.seed()
        if solana is None:
            return None
        keypair = derive_keypair(LOCAL_SEED, "participant wallet")
        wallet = keypair.pubkey()
        path = self.path.parent / "solana" / SOLANA_WALLET_FILE
        if not path.is_file():
            _write_json(path, list(bytes(keypair)), private=True)
        if solana.chain.lamports(wallet) < LAMPORTS_PER_SOL:
            solana.chain.send(
                [
                    transfer(
                        TransferParams(
                            from_pubkey=solana.payer.pubkey(), to_pubkey=wallet, lamports=PARTICIPANT_SOL
                        )
                    )
                ],
                solana.payer,
            )
        self.local.issuer.investors.bind_wallet(record.investors[PARTICIPANT.name], str(wallet))
        return str(wallet), path

    def keys(self) -> list[DemoKey]:
        """Return the demo's API keys, issuing them on the first call (kept in `api-keys.json`)."""
        if self.keys_path.is_file():
            return [DemoKey(**item) for item in json.loads(self.keys_path.read_text())]
        record = self.seed()
        api_keys = ApiKeys(self.local.database, self.local.clock)
        keys = [
            DemoKey(
                "operator",
                "operator",
                None,
                api_keys.issue(Role.OPERATOR, None, "demo operator"),
                "everything: investors, KYC, freezes, every request and holding",
            )
        ]
        participant_id = record.investors[PARTICIPANT.name]
        keys.append(
            DemoKey(
                "participant",
                PARTICIPANT.name,
                participant_id,
                api_keys.issue(Role.PARTICIPANT, participant_id, f"demo {PARTICIPANT.name}"),
                "mint and redeem for itself; its own requests and holdings",
            )
        )
        for demo in RETAIL:
            investor_id = record.investors[demo.name]
            keys.append(
                DemoKey(
                    "investor",
                    f"{demo.name} ({demo.jurisdiction})",
                    investor_id,
                    api_keys.issue(Role.INVESTOR, investor_id, f"demo {demo.name}"),
                    "read its own holdings, proofs and profile",
                )
            )
        _write_json(self.keys_path, [asdict(key) for key in keys], private=True)
        return keys

    def _onboard(self, demo: DemoInvestor, wallet: str, clock: Clock) -> Investor:
        book = self.local.issuer.investors
        investor = next((i for i in book.all() if i.name == demo.name), None)
        if investor is None:
            # KYC expiry is checked on-chain against block time, which follows market time.
            expires = clock.now() + KYC_VALIDITY
            investor = book.onboard(demo.name, demo.jurisdiction, demo.category, kyc_expires_at=expires)
        return book.bind_wallet(investor.id, wallet)


def _write_json(path: Path, data: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    if private:
        partial.touch(mode=0o600)
    partial.write_text(json.dumps(data, indent=2))
    partial.replace(path)
