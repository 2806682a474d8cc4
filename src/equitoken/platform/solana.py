"""The local Solana: LiteSVM with its state in the data directory, the issuer's stock mints on it,
and the issuer's keys for it."""

from collections.abc import Sequence
from pathlib import Path

from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.deployment import deploy_stock_mints, solana_deployment_records
from equitoken.chain.solana.litesvm import LAMPORTS_PER_SOL, LiteSvmChain
from equitoken.chain.solana.rpc import SolanaRpcChain
from equitoken.chain.solana.snapshot import SvmSnapshot
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS, MintAuthorities, StockMintTerms, derive_keypair
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.model.instrument import ComplianceProfile, Instrument
from equitoken.model.time import Clock

# The local chain's keys follow from this seed, as anvil's accounts follow from its mnemonic: never
# use them on a real cluster.
LOCAL_SEED = b"equitoken local solana"
PAYER_FLOAT = 1_000 * LAMPORTS_PER_SOL


def mint_terms(instrument: Instrument) -> StockMintTerms:
    """Return what `instrument`'s mint says of it, as its EVM token does."""
    return StockMintTerms(
        name=f"{instrument.name} tokenized stock"[:50],
        symbol=instrument.token_symbol,
        uri=f"https://equitoken.example/tokens/{instrument.token_symbol}.json",
        isin=str(instrument.isin),
        terms_uri=f"https://equitoken.example/terms/{instrument.token_symbol}",
        frozen_by_default=instrument.profile is not ComplianceProfile.OPEN,
    )


def local_solana(
    clock: Clock, instruments: Sequence[Instrument], data_dir: Path | None = None, seed: bytes = LOCAL_SEED
) -> SolanaIssuerChain:
    """Return the issuer's local Solana with a mint per instrument: restored from `data_dir` (and its
    mints reused) if it holds one, else new (and kept there, if given); in memory without `data_dir`."""
    for instrument in instruments:
        if instrument.token_decimals != STOCK_DECIMALS:
            raise ValueError(
                f"{instrument.ticker}'s token has {instrument.token_decimals} decimals; its Solana mint "
                f"would have {STOCK_DECIMALS}"
            )
    snapshot = None if data_dir is None else SvmSnapshot(data_dir / "solana.sqlite")
    chain = LiteSvmChain(clock, snapshot)
    authorities, payer = MintAuthorities.from_seed(seed), derive_keypair(seed, "payer")
    if chain.lamports(payer.pubkey()) < PAYER_FLOAT // 2:
        chain.airdrop(payer.pubkey(), PAYER_FLOAT)
    records = None if data_dir is None else solana_deployment_records(data_dir)
    deployment = None if records is None else records.load(chain.chain_id)
    wanted = {i.ticker for i in instruments}
    if deployment is None or not wanted <= set(deployment.mints):
        deployment = deploy_stock_mints(
            chain, payer, authorities, {i.ticker: mint_terms(i) for i in instruments}
        )
        if records is not None:
            records.save(chain.chain_id, deployment)
    profiles = {i.ticker: i.profile for i in instruments}
    return SolanaIssuerChain(chain, deployment, authorities, payer, profiles)


def served_solana(
    url: str, instruments: Sequence[Instrument], data_dir: Path, seed: bytes = LOCAL_SEED
) -> SolanaIssuerChain:
    """Return the local Solana that `up` serves at `url`, through its JSON-RPC (for another process: the
    CLI); raise ValueError if `data_dir` records no mints."""
    deployment = solana_deployment_records(data_dir).load(SOLANA_LOCAL)
    if deployment is None:
        raise ValueError(
            f"no Solana mints are recorded in {data_dir}; start the platform with `equitoken up`"
        )
    chain = SolanaRpcChain(url, SOLANA_LOCAL)
    profiles = {i.ticker: i.profile for i in instruments if i.ticker in deployment.mints}
    return SolanaIssuerChain(
        chain, deployment, MintAuthorities.from_seed(seed), derive_keypair(seed, "payer"), profiles
    )
