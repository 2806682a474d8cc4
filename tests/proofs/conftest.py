"""Fixtures for the proofs: the issuer's real chains, databases and replayed prices."""

from tests.issuer.conftest import (  # noqa: F401  (fixtures used by the tests of this folder)
    calendar,
    evm_chain,
    platform,
    prices,
    shared_anvil,
)
