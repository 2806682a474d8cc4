"""The platform run locally: an anvil node with persisted state and the issuance layer deployed on it once."""

from dataclasses import dataclass, field
from pathlib import Path

from equitoken.chain.anvil import AnvilNode
from equitoken.chain.deployment import (
    DeploymentRecords,
    IssuanceDeployment,
    IssuerRoles,
    Progress,
    deploy_issuance,
    is_live,
)
from equitoken.chain.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue

DEFAULT_DATA_DIR = Path(".data")
DEFAULT_RPC_PORT = 8545


@dataclass
class LocalPlatform:
    """Start, and stop, everything `equitoken up` runs on this machine."""

    data_dir: Path = DEFAULT_DATA_DIR
    rpc_port: int = DEFAULT_RPC_PORT
    node: AnvilNode = field(init=False)

    def __post_init__(self) -> None:
        self.node = AnvilNode(
            port=self.rpc_port,
            accounts=10,
            state_file=self.data_dir / "anvil" / "state.json",
            log_file=self.data_dir / "anvil" / "anvil.log",
        )

    def start(self, progress: Progress) -> IssuanceDeployment:
        """Start the node, then deploy the catalogue's instruments unless a live deployment exists."""
        progress(f"starting anvil on 127.0.0.1:{self.rpc_port} (state in {self.node.state_file})")
        self.node.start()
        chain = self.chain()
        records = DeploymentRecords(self.data_dir / "deployments")
        existing = records.load(chain.chain_id)
        if existing is not None and is_live(chain, existing):
            progress("reusing the contracts deployed on an earlier run")
            return existing
        instruments = load_catalogue()
        progress(f"deploying the issuance contracts for {len(instruments)} instruments")
        roles = IssuerRoles.from_accounts(self.node.accounts)
        deployment = deploy_issuance(chain, roles, instruments, progress=lambda step: progress(f"  {step}"))
        records.save(deployment)
        return deployment

    def chain(self) -> JsonRpcChain:
        """Return a JSON-RPC client for the node, signing for its dev accounts."""
        return self.node.chain()

    def stop(self) -> None:
        """Stop the node; it writes its state first."""
        self.node.stop()
