"""@solana/web3.js and @solana/spl-token, the npm clients wallets use, installed at test time into the
git-ignored ``.cache/solana-clients/`` (never committed)."""

from pathlib import Path

from bench.peers.npm import install

WEB3JS = ("@solana/web3.js", "1.98.4")
SPL_TOKEN = ("@solana/spl-token", "0.4.14")
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "solana-clients"


def install_web3js(cache_dir: Path = CACHE_DIR) -> Path:
    """Install the pinned clients unless already there; return their ``node_modules``."""
    return install(cache_dir, (WEB3JS, SPL_TOKEN))
