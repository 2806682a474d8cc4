"""Off-chain asset layer: instruments, investors, custody and the mint/redeem workflow."""
