"""Keepers: bots that hold our venues in line with the oracle (the AMM arbitrage keeper first)."""
