"""Solana: the SPL Token-2022 interface, and an in-process chain on LiteSVM with the real SPL programs."""
