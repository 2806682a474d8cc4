"""The processor's deployment and its admin: roles, the EIP-712 domain its quotes are signed under,
the treasury and fee signer only the admin replaces, never with the zero address."""

from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts import actor
from tests.support.contracts.issuance import DOMAIN_NAME, DOMAIN_VERSION, SHARE, USDC, Desk, market_buy

ZERO = "0x0000000000000000000000000000000000000000"


def test_the_deployment_binds_usdc_the_treasury_and_the_fee_signer(
    processor: Any, usdc: Any, treasury: str, fee_signer: LocalAccount, admin: str, operator: str
) -> None:
    domain = processor.eip712Domain()

    assert domain[1:5] == (DOMAIN_NAME, DOMAIN_VERSION, boa.env.evm.patch.chain_id, processor.address)
    assert processor.payment_token() == usdc.address
    assert processor.treasury() == treasury
    assert processor.fee_signer() == fee_signer.address
    assert processor.hasRole(processor.DEFAULT_ADMIN_ROLE(), admin)
    assert processor.hasRole(processor.OPERATOR_ROLE(), operator)
    assert not processor.hasRole(processor.OPERATOR_ROLE(), admin)
    assert processor.next_order_id() == 1


def test_the_zero_address_is_refused(processor_deployer: Any, processor: Any, usdc: Any, admin: str) -> None:
    with boa.reverts("orders: payment token is the zero address"):
        processor_deployer.deploy(ZERO, admin, admin)
    with boa.reverts("orders: treasury is the zero address"):
        processor_deployer.deploy(usdc.address, ZERO, admin)
    with boa.reverts("orders: fee signer is the zero address"):
        processor_deployer.deploy(usdc.address, admin, ZERO)
    with boa.env.prank(admin):
        with boa.reverts("orders: treasury is the zero address"):
            processor.set_treasury(ZERO)
        with boa.reverts("orders: fee signer is the zero address"):
            processor.set_fee_signer(ZERO)


def test_only_the_admin_replaces_the_treasury_and_fills_then_pay_the_new_one(
    desk: Desk, processor: Any, token: Any, usdc: Any, buyer: str, admin: str, operator: str
) -> None:
    vault = actor("new_treasury")
    with boa.env.prank(operator), boa.reverts("access_control: account is missing role"):
        processor.set_treasury(vault)

    with boa.env.prank(admin):
        processor.set_treasury(vault)
    order_id = desk.place(buyer, market_buy(token, buyer, 100 * USDC), USDC)
    desk.fill(order_id, SHARE // 2, 100 * USDC)

    assert processor.treasury() == vault
    assert usdc.balanceOf(vault) == 101 * USDC
