"""Gas of `send` and of `receive` with 1, 4 and 7 attesters, as whole cold transactions (see
`tests.support.contracts.bridge.pool_gas`; bench/bridge.py prints the same figures)."""

from tests.support.contracts.bridge import pool_gas

SEND_GAS, RECEIVE_BASE_GAS, PER_SIGNATURE_GAS = 90_000, 125_000, 7_000


def test_gas_bounds() -> None:
    gas = pool_gas()
    assert gas["send"] < SEND_GAS
    for n in (1, 4, 7):
        assert gas[f"receive_{n}"] < RECEIVE_BASE_GAS + (n - 1) * PER_SIGNATURE_GAS
