"""On-chain issuance layer: the chains the platform issues on, one package per family.

Shared by every family: `errors` (the chain layer's errors and their codes), `records` (block
headers, and the per-chain JSON files that say where contracts are deployed), `confirmation` (when a
block is final enough to act on, and waiting for it). `evm/` holds the EVM family: the `EvmChain`
interface with its JSON-RPC and in-process implementations, ABI coding, contracts, the Vyper
compiler, anvil nodes, signing keys and the issuance deployment. `solana/` holds the Solana family:
the `SolanaChain` interface on LiteSVM (in process, persisted, served over JSON-RPC by
`rpc_server`) and on a cluster's JSON-RPC, the Token-2022 interface, and the stock mints.
"""
