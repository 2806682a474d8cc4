"""On-chain issuance layer: contract artifacts, EVM nodes and the chain interface."""
