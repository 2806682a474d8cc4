"""Solana: the `SolanaChain` interface (`chain`), LiteSVM in process with the real SPL programs
(`litesvm`, persisted by `snapshot`, served over JSON-RPC by `rpc_server`), a cluster's JSON-RPC on
solana-py (`rpc`), the Token-2022 interface (`token2022`), and the stock mints (`stock_mint`,
`deployment`, `agent`)."""
