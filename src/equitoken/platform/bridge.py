"""The bridge of `equitoken up`: a token pool beside each token on both EVM chains, joined to each
other and to Solana's mints, `ATTESTER_COUNT` attesters as processes of their own (any `THRESHOLD`
of them make a quorum), and the relayer the platform's loop runs.

The attesters' keys live in `<data_dir>/bridge/` (made on the first run, then reused: the pools
register these addresses), the configuration they read the chains by in `<data_dir>/bridge/bridge.json`
and their logs in `<data_dir>/logs/attester-<i>.log`. The pools are recorded in
`deployments/bridge-chain-<id>.json` and deployed again only if the node lost them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from solders.keypair import Keypair

from equitoken.bridge.assemble import EvmSide, SolanaSide, attester_config, join_all, relayer, write_config
from equitoken.bridge.attester_client import AttesterProcess
from equitoken.bridge.deployment import deploy_pools, pool_records
from equitoken.bridge.desk import BridgeDesk
from equitoken.bridge.relayer import AttesterSet, Relayer
from equitoken.chain.solana.stock_mint import derive_keypair
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.service import Issuer
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.model.address import checksum
from equitoken.oracle.keys import create_key, load_key
from equitoken.platform.solana import LOCAL_SEED

ATTESTER_COUNT = 3
THRESHOLD = 2  # a majority: one attester may be down or lie
BRIDGE_DIRECTORY = "bridge"


@dataclass
class LocalBridge:
    """The running bridge: its attester processes, the relayer and the desk the API serves."""

    processes: list[AttesterProcess]
    relayer: Relayer
    desk: BridgeDesk

    def stop(self) -> None:
        """Stop the attesters."""
        for process in self.processes:
            process.stop()


def attester_keys(data_dir: Path) -> list[tuple[Path, LocalAccount]]:
    """Return the attesters' key files and keys, making the missing ones."""
    keys = []
    for index in range(1, ATTESTER_COUNT + 1):
        path = data_dir / BRIDGE_DIRECTORY / f"attester-{index}.key"
        if not path.exists():
            create_key(path)
        keys.append((path, load_key(path)))
    return keys


def open_bridge(
    data_dir: Path,
    issuer: Issuer,
    evm: Mapping[str, tuple[IssuerChain, str]],
    solana: tuple[SolanaIssuerChain, str] | None,
    keypairs: Mapping[str, Keypair],
    progress: Callable[[str], None],
) -> LocalBridge:
    """Deploy what is missing, start the attesters and return the bridge over `evm` (by name: the
    issuer's chain and its JSON-RPC URL) and `solana` (its chain and URL)."""
    keys = attester_keys(data_dir)
    members = [checksum(key.address) for _, key in keys]
    records = pool_records(data_dir / "deployments")
    sides, names = [], {}
    for name, (chain, url) in evm.items():
        pools = records.load(chain.chain_id)
        if pools is None or not all(chain.chain.code(a) for a in pools.pools.values()):
            progress(f"deploying the bridge's token pools on {name} (chain {chain.chain_id})")
            pools = deploy_pools(chain.chain, chain.deployment, chain.roles, members, THRESHOLD)
            records.save(chain.chain_id, pools)
        sides.append(EvmSide(chain, pools, url))
        names[chain.chain_id] = name
    solana_side = None
    if solana is not None:
        hold = derive_keypair(LOCAL_SEED, "bridge hold")
        solana_side = SolanaSide(solana[0], solana[1], hold)
        names[solana[0].chain_id] = "solana"
    join_all(sides, solana_side)
    config = write_config(data_dir / BRIDGE_DIRECTORY / "bridge.json", attester_config(sides, solana_side))
    logs = data_dir / "logs"
    processes = [
        AttesterProcess(path, config, log_file=logs / f"attester-{index}.log")
        for index, (path, _) in enumerate(keys, start=1)
    ]
    try:
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_ready()
    except BaseException:
        for process in processes:
            process.stop()
        raise
    progress(
        f"bridge: {ATTESTER_COUNT} attesters (quorum {THRESHOLD}) over chains {', '.join(names.values())}"
    )
    relay = relayer(
        issuer.db,
        issuer.clock,
        sides,
        solana_side,
        [p.client() for p in processes],
        AttesterSet(members, THRESHOLD),
        issuer,
        sanctioned=sorted(issuer.config.sanctioned_wallets),
    )
    signers = sides[0].chain.chain.signers
    return LocalBridge(processes, relay, BridgeDesk(relay, signers, keypairs, names))
