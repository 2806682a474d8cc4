"""A stock mint on LiteSVM whose verified holders bridge out (a memo and a BurnChecked), and what a
bridge-out and the issuer's mint to a holder cost in compute units."""

from dataclasses import dataclass
from datetime import UTC, datetime

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.bridge.solana_burns import bridge_out_instructions
from equitoken.chain.solana.chain import Landed
from equitoken.chain.solana.deployment import SolanaDeployment
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.stock_mint import (
    STOCK_DECIMALS,
    MintAuthorities,
    StockMintTerms,
    create_stock_mint,
)
from equitoken.durable.solana_outbox import SolanaCall
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.market.clock import ManualClock
from equitoken.model.instrument import ComplianceProfile

TICKER = "AAPL"
ONE = 10**STOCK_DECIMALS
START = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
TERMS = StockMintTerms(
    "Apple Inc. tokenized stock", "AAPLx", "https://x/AAPLx.json", "US0378331005", "https://x/terms", True
)
EVM_CHAIN = 31337
EVM_RECEIVER = bytes(12) + bytes.fromhex("70997970c51812dc3a010c7d01b50e0d17dc79c8")


@dataclass
class SolanaBridgeWorld:
    """One permissioned stock mint on LiteSVM and the issuer acting on it."""

    chain: LiteSvmChain
    clock: ManualClock
    payer: Keypair
    authorities: MintAuthorities
    mint: Pubkey
    issuer: SolanaIssuerChain

    @classmethod
    def create(cls) -> "SolanaBridgeWorld":
        clock = ManualClock(START)
        chain, payer, authorities = LiteSvmChain(clock), Keypair(), MintAuthorities.generate()
        chain.airdrop(payer.pubkey(), 100 * 10**9)
        mint = create_stock_mint(chain, payer, Keypair(), authorities, TERMS)
        deployment = SolanaDeployment(chain.chain_id, {TICKER: mint})
        profiles = {TICKER: ComplianceProfile.PERMISSIONED}
        issuer = SolanaIssuerChain(chain, deployment, authorities, payer, profiles)
        return cls(chain, clock, payer, authorities, mint, issuer)

    def run(self, call: SolanaCall) -> Landed:
        """Send an issuer's call as its outbox would (signed, sent, confirmed)."""
        return self.chain.send(call.instructions, call.payer, *call.signers)

    def holder(self, tokens: int = 0) -> Keypair:
        """Return a new verified holder with lamports for fees and `tokens` raw units minted to it."""
        wallet = Keypair()
        self.chain.airdrop(wallet.pubkey())
        self.run(self.issuer.registration_call(TICKER, str(wallet.pubkey()), verified=True))
        if tokens:
            self.run(self.issuer.mint_call(TICKER, str(wallet.pubkey()), tokens))
        return wallet

    def bridge_out(
        self, holder: Keypair, amount: int, dest_chain: int = EVM_CHAIN, receiver: bytes = EVM_RECEIVER
    ) -> Landed:
        """Have `holder` bridge `amount` raw units out in one transaction it signs and pays for."""
        instructions = bridge_out_instructions(
            self.mint, holder.pubkey(), amount, STOCK_DECIMALS, dest_chain, receiver
        )
        return self.chain.send(instructions, holder, context="bridging out")

    def compute_units(self, landed: Landed) -> int:
        """Return the compute units the transaction's metadata says it consumed."""
        found = self.chain.transaction(landed.signature)
        assert found is not None
        assert found[1] is not None
        return found[1].compute_units_consumed()


def bridge_compute_units() -> dict[str, int]:
    """Return the compute units of a holder's bridge-out (memo + BurnChecked) and of the issuer's mint
    to a verified holder under the permissioned profile (what a bridge-in to Solana costs)."""
    world = SolanaBridgeWorld.create()
    holder = world.holder()
    minted = world.run(world.issuer.mint_call(TICKER, str(holder.pubkey()), 10 * ONE))
    burned = world.bridge_out(holder, 3 * ONE)
    return {"burn": world.compute_units(burned), "mint": world.compute_units(minted)}
