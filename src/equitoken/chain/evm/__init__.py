"""The EVM family: `chain.EvmChain` and its transports (`jsonrpc`, `inprocess`), ABI coding,
contracts, signing keys, the anvil node, the Vyper compiler and the issuance deployment."""
