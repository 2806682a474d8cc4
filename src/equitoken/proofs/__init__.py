"""Proof of reserves and liabilities: Merkle-sum trees over token holders, inclusion proofs, and
signed reserves reports per instrument."""
