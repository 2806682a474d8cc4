"""Where an issuer's stock mints live on a Solana cluster, and creating them."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.chain.records import JsonRecords
from equitoken.chain.solana.chain import SolanaChain
from equitoken.chain.solana.stock_mint import MintAuthorities, StockMintTerms, create_stock_mint


@dataclass(frozen=True)
class SolanaDeployment:
    """The stock mints of one cluster, by ticker."""

    chain_id: int
    mints: Mapping[str, Pubkey]

    @property
    def tickers(self) -> list[str]:
        return sorted(self.mints)

    def mint(self, ticker: str) -> Pubkey:
        """Return the mint of `ticker`; raise LookupError naming the ones there are."""
        if ticker not in self.mints:
            raise LookupError(f"no {ticker} mint on chain {self.chain_id}; it has {', '.join(self.tickers)}")
        return self.mints[ticker]


def _encode(deployment: SolanaDeployment) -> dict[str, Any]:
    return {"chain_id": deployment.chain_id, "mints": {t: str(m) for t, m in deployment.mints.items()}}


def _decode(data: dict[str, Any]) -> SolanaDeployment:
    return SolanaDeployment(data["chain_id"], {t: Pubkey.from_string(m) for t, m in data["mints"].items()})


def solana_deployment_records(directory: Path) -> JsonRecords[SolanaDeployment]:
    """Return the deployment records kept in `directory` (`solana-chain-<id>.json`)."""
    return JsonRecords(directory, "solana-", _encode, _decode)


def deploy_stock_mints(
    chain: SolanaChain, payer: Keypair, authorities: MintAuthorities, terms: Mapping[str, StockMintTerms]
) -> SolanaDeployment:
    """Create one stock mint per ticker, each at a fresh address."""
    mints = {
        ticker: create_stock_mint(chain, payer, Keypair(), authorities, t) for ticker, t in terms.items()
    }
    return SolanaDeployment(chain.chain_id, mints)
