"""A failed venue test that ends in a mined transaction's revert shows the node's trace of it."""

from collections.abc import Generator

import pytest
from tests.support.traces import describe_transaction

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.jsonrpc import JsonRpcChain


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # A revert with no reason names no contract; the call tree says which frame failed and how. The
    # report of the test's call is made before its fixtures are torn down, so the chain still holds
    # the transaction (a fixture may revert the chain to a snapshot afterwards).
    report = yield
    if report.when == "call" and call.excinfo is not None:
        revert, chain = _mined_revert(call.excinfo.value), _chain_of(item)
        if revert is not None and revert.tx_hash and chain is not None:
            title = f"debug_traceTransaction {revert.tx_hash}"
            report.sections.append((title, describe_transaction(chain, revert.tx_hash)))
    return report


def _mined_revert(error: BaseException | None) -> RevertError | None:
    # pytest.raises(match=...) raises its own AssertionError with the revert as the context.
    while error is not None:
        if isinstance(error, RevertError) and error.tx_hash:
            return error
        error = error.__cause__ or error.__context__
    return None


def _chain_of(item: pytest.Item) -> JsonRpcChain | None:
    # The test's own chain client, or the one a fixture value (such as a market) carries.
    for value in getattr(item, "funcargs", {}).values():
        chain = value if isinstance(value, JsonRpcChain) else getattr(value, "chain", None)
        if isinstance(chain, JsonRpcChain):
            return chain
    return None
