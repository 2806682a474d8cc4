"""An indexer process for the kill tests: index one anvil chain, one block per batch, until caught up.

Run as `python -m tests.indexer.index_worker RPC_URL DATABASE_URL DEPLOYMENT.json`.
"""

import sys
from pathlib import Path

from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.indexer import IndexedChain, Indexer
from equitoken.store.database import Database


def main(rpc_url: str, database_url: str, deployment_path: str) -> int:
    deployment = IssuanceDeployment.from_json(Path(deployment_path).read_text())
    chain = JsonRpcChain(rpc_url)
    indexer = Indexer(
        Database(database_url), [IndexedChain(chain, deployment, confirmations=0, batch_blocks=1)]
    )
    return 0 if indexer.poll().caught_up else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
