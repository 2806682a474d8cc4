"""Trading venues for stock tokens: the on-chain AMM, the order-book exchange and their keepers."""
