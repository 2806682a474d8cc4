"""Contracts for difference on the exchange's accounts (Bybit MT5 model); see docs/cfd.md."""
