"""Deployers and actors for the order processor: test USDC, an open and a permissioned stock token
that the processor may mint and burn, the processor with its operator, pauser, treasury and fee
signer, and a buyer and a seller funded and approving it.

The units, order builders, quote signing and the checking `Desk` live in
``tests.support.contracts.issuance``.
"""

from typing import Any

import boa
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from tests.support.contracts import OPEN, PERMISSIONED, TokenFactory, actor, attest, mint, register
from tests.support.contracts.issuance import SHARE, USDC, Desk

from equitoken.chain.evm.artifacts import contract_path

PROCESSOR_OPERATOR, BUYER, SELLER = 900, 1, 2
MAX_UINT = 2**256 - 1


@pytest.fixture(scope="session")
def processor_deployer() -> Any:
    return boa.load_partial(str(contract_path("issuance/OrderProcessor.vy")))


@pytest.fixture(scope="session")
def usdc_deployer() -> Any:
    return boa.load_partial(str(contract_path("settlement/TestUSDC.vy")))


@pytest.fixture(scope="module")
def fee_signer() -> LocalAccount:
    """The key that signs fee quotes."""
    account: LocalAccount = Account.from_key(b"\x22" * 32)
    return account


@pytest.fixture(scope="module")
def treasury() -> str:
    return actor("treasury")


@pytest.fixture(scope="module")
def buyer() -> str:
    return actor("buyer")


@pytest.fixture(scope="module")
def seller() -> str:
    return actor("seller")


@pytest.fixture(scope="module")
def usdc(usdc_deployer: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return usdc_deployer.deploy()


@pytest.fixture(scope="module")
def processor(
    processor_deployer: Any,
    usdc: Any,
    treasury: str,
    fee_signer: LocalAccount,
    admin: str,
    operator: str,
    pauser: str,
) -> Any:
    with boa.env.prank(admin):
        processor = processor_deployer.deploy(usdc.address, treasury, fee_signer.address)
        processor.grantRole(processor.OPERATOR_ROLE(), operator)
        processor.grantRole(processor.PAUSER_ROLE(), pauser)
    return processor


def _serve(token: Any, processor: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        token.grantRole(token.MINTER_ROLE(), processor.address)
        token.grantRole(token.BURNER_ROLE(), processor.address)
    return token


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory, processor: Any, admin: str) -> Any:
    """An open stock token the processor mints and burns."""
    return _serve(deploy_token(OPEN), processor, admin)


@pytest.fixture(scope="module")
def permissioned(
    deploy_token: TokenFactory, processor: Any, admin: str, registry: Any, registrar: str
) -> Any:
    """A permissioned stock token; the processor is a verified wallet of the platform's investor."""
    token = _serve(deploy_token(PERMISSIONED), processor, admin)
    register(registry, registrar, PROCESSOR_OPERATOR, processor.address)
    return token


@pytest.fixture(scope="module")
def desk(
    processor: Any,
    usdc: Any,
    fee_signer: LocalAccount,
    operator: str,
    token: Any,
    permissioned: Any,
    buyer: str,
    seller: str,
    admin: str,
    reserve_feed: Any,
    attester: str,
    minter: str,
) -> Desk:
    """The desk over both tokens: the buyer holds 100_000 USDC, the seller 100 shares of the open token
    and 1_000 USDC for fees, the operator 100_000 USDC for sale proceeds, all approving the processor,
    and the reserves cover 1_000 more shares."""
    with boa.env.prank(admin):
        usdc.mint(buyer, 100_000 * USDC)
        usdc.mint(seller, 1_000 * USDC)
        usdc.mint(operator, 100_000 * USDC)
    mint(token, reserve_feed, attester, minter, seller, 100 * SHARE)
    for account in (buyer, seller, operator):
        with boa.env.prank(account):
            usdc.approve(processor.address, MAX_UINT)
            token.approve(processor.address, MAX_UINT)
            permissioned.approve(processor.address, MAX_UINT)
    attest(reserve_feed, attester, token.totalSupply() + permissioned.totalSupply() + 1_000 * SHARE)
    return Desk(processor, usdc, fee_signer, operator, [token, permissioned])
