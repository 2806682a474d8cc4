"""ERC-20, permit and metadata behaviour of StockToken in the `open` profile."""

from typing import Any

import boa
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from tests.support.contracts import AAPL_ISIN, DECIMALS, ONE_SHARE, OPEN, TokenFactory, events, mint

from equitoken.chain.evm.permit import permit_message
from equitoken.chain.evm.permit import sign_permit as sign

MAX_UINT = 2**256 - 1


@pytest.fixture
def token(deploy_token: TokenFactory) -> Any:
    return deploy_token(OPEN)


@pytest.fixture
def funded(token: Any, reserve_feed: Any, attester: str, minter: str, holder: str) -> Any:
    mint(token, reserve_feed, attester, minter, holder, 100 * ONE_SHARE)
    return token


def sign_permit(
    token: Any, owner: LocalAccount, spender: str, value: int, deadline: int, nonce: int | None = None
) -> tuple[int, bytes, bytes]:
    """Sign an EIP-2612 permit for a boa-deployed token as a wallet would."""
    message = permit_message(
        token_name=token.name(),
        chain_id=boa.env.evm.patch.chain_id,
        token=token.address,
        owner=owner.address,
        spender=spender,
        value=value,
        nonce=token.nonces(owner.address) if nonce is None else nonce,
        deadline=deadline,
    )
    return sign(owner, message)


def test_metadata_is_readable_on_chain(token: Any, admin: str) -> None:
    assert token.name() == "Apple Inc. tokenized stock"
    assert token.symbol() == "AAPLx"
    assert token.decimals() == DECIMALS
    assert token.isin() == AAPL_ISIN
    assert token.ticker() == "AAPL"
    assert token.terms_uri() == "https://equitoken.example/terms/AAPLx"
    assert token.compliance_profile() == OPEN
    assert token.owner() == admin
    assert token.hasRole(token.DEFAULT_ADMIN_ROLE(), admin)


def test_long_symbols_fit(deploy_token: TokenFactory) -> None:
    token = deploy_token(OPEN, symbol_="GOOGLx", name_="Alphabet Inc. Class A tokenized stock")
    assert token.symbol() == "GOOGLx"


def test_constructor_rejects_a_malformed_isin(deploy_token: TokenFactory) -> None:
    with boa.reverts("token: an ISIN has 12 characters"):
        deploy_token(OPEN, isin_="US03783310")


def test_constructor_rejects_an_unknown_profile(deploy_token: TokenFactory) -> None:
    with boa.reverts("token: unknown compliance profile"):
        deploy_token(3)


def test_constructor_requires_a_registry_unless_open(deploy_token: TokenFactory) -> None:
    with boa.reverts("token: profile needs a registry"):
        deploy_token(1, identity_registry_="0x" + "00" * 20)


def test_constructor_rejects_a_zero_heartbeat(deploy_token: TokenFactory) -> None:
    with boa.reverts("secure mint: heartbeat is zero"):
        deploy_token(OPEN, reserve_heartbeat_=0)


def test_transfer_moves_raw_balances(funded: Any, holder: str, receiver: str) -> None:
    with boa.env.prank(holder):
        assert funded.transfer(receiver, 40 * ONE_SHARE)
    assert events(funded) == [("Transfer", {"sender": holder, "receiver": receiver, "value": 40 * ONE_SHARE})]
    assert funded.balanceOf(holder) == 60 * ONE_SHARE
    assert funded.balanceOf(receiver) == 40 * ONE_SHARE
    assert funded.totalSupply() == 100 * ONE_SHARE


def test_transfer_beyond_the_balance_reverts(funded: Any, holder: str, receiver: str) -> None:
    with boa.env.prank(holder), boa.reverts("amount exceeds the balance"):
        funded.transfer(receiver, 100 * ONE_SHARE + 1)


def test_transfer_to_the_zero_address_reverts(funded: Any, holder: str) -> None:
    with boa.env.prank(holder), boa.reverts("receiver is the zero address"):
        funded.transfer("0x" + "00" * 20, 1)


def test_approve_and_transfer_from_spend_the_allowance(
    funded: Any, holder: str, spender: str, receiver: str
) -> None:
    with boa.env.prank(holder):
        funded.approve(spender, 30 * ONE_SHARE)
    with boa.env.prank(spender):
        funded.transferFrom(holder, receiver, 20 * ONE_SHARE)
    assert funded.allowance(holder, spender) == 10 * ONE_SHARE
    assert funded.balanceOf(receiver) == 20 * ONE_SHARE


def test_infinite_allowance_is_not_spent(funded: Any, holder: str, spender: str, receiver: str) -> None:
    with boa.env.prank(holder):
        funded.approve(spender, MAX_UINT)
    with boa.env.prank(spender):
        funded.transferFrom(holder, receiver, ONE_SHARE)
    assert funded.allowance(holder, spender) == MAX_UINT


def test_transfer_from_beyond_the_allowance_reverts(
    funded: Any, holder: str, spender: str, receiver: str
) -> None:
    with boa.env.prank(holder):
        funded.approve(spender, ONE_SHARE)
    with boa.env.prank(spender), boa.reverts("erc20: insufficient allowance"):
        funded.transferFrom(holder, receiver, ONE_SHARE + 1)


def test_approve_to_the_zero_address_reverts(funded: Any, holder: str) -> None:
    with boa.env.prank(holder), boa.reverts("erc20: approve to the zero address"):
        funded.approve("0x" + "00" * 20, 1)


def test_permit_sets_an_allowance_from_a_signature(
    funded: Any, holder_key: LocalAccount, spender: str, receiver: str
) -> None:
    deadline = boa.env.evm.patch.timestamp + 600
    v, r, s = sign_permit(funded, holder_key, spender, 5 * ONE_SHARE, deadline)
    funded.permit(holder_key.address, spender, 5 * ONE_SHARE, deadline, v, r, s)
    assert funded.allowance(holder_key.address, spender) == 5 * ONE_SHARE
    assert funded.nonces(holder_key.address) == 1
    with boa.env.prank(spender):
        funded.transferFrom(holder_key.address, receiver, 5 * ONE_SHARE)
    assert funded.balanceOf(receiver) == 5 * ONE_SHARE


def test_permit_signature_cannot_be_replayed(funded: Any, holder_key: LocalAccount, spender: str) -> None:
    deadline = boa.env.evm.patch.timestamp + 600
    v, r, s = sign_permit(funded, holder_key, spender, ONE_SHARE, deadline)
    funded.permit(holder_key.address, spender, ONE_SHARE, deadline, v, r, s)
    with boa.reverts("erc20: invalid signature"):
        funded.permit(holder_key.address, spender, ONE_SHARE, deadline, v, r, s)


def test_permit_after_its_deadline_reverts(funded: Any, holder_key: LocalAccount, spender: str) -> None:
    deadline = boa.env.evm.patch.timestamp + 60
    v, r, s = sign_permit(funded, holder_key, spender, ONE_SHARE, deadline)
    boa.env.time_travel(seconds=61)
    with boa.reverts("erc20: expired deadline"):
        funded.permit(holder_key.address, spender, ONE_SHARE, deadline, v, r, s)


def test_permit_signed_by_another_key_reverts(funded: Any, holder_key: LocalAccount, spender: str) -> None:
    impostor = Account.from_key(b"\x22" * 32)
    deadline = boa.env.evm.patch.timestamp + 600
    v, r, s = sign_permit(funded, impostor, spender, ONE_SHARE, deadline, nonce=0)
    with boa.reverts("erc20: invalid signature"):
        funded.permit(holder_key.address, spender, ONE_SHARE, deadline, v, r, s)


def test_domain_separator_and_eip712_domain_name_the_token(funded: Any) -> None:
    _fields, name, version, chain_id, verifying_contract, _, _ = funded.eip712Domain()
    assert name == funded.name()
    assert version == "1"
    assert chain_id == boa.env.evm.patch.chain_id
    assert verifying_contract == funded.address
    assert len(funded.DOMAIN_SEPARATOR()) == 32


def test_supports_erc165_and_access_control_interfaces(token: Any) -> None:
    assert token.supportsInterface(bytes.fromhex("01ffc9a7"))
    assert token.supportsInterface(bytes.fromhex("7965db0b"))
    assert not token.supportsInterface(bytes.fromhex("ffffffff"))
