"""The issuance contracts deployed by ``deploy_issuance`` on the in-process chain, and a secure mint
through the platform's prepare / send_raw / receipt path."""

from collections.abc import Iterator

import pytest

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue

SHARE = 10**8


@pytest.fixture(scope="module")
def chain() -> InProcessChain:
    return InProcessChain(SignerRegistry.anvil(11))


@pytest.fixture(scope="module")
def roles(chain: InProcessChain) -> IssuerRoles:
    return IssuerRoles.from_accounts(chain.accounts)


@pytest.fixture(scope="module")
def deployment(chain: InProcessChain, roles: IssuerRoles) -> IssuanceDeployment:
    instruments = [i for i in load_catalogue() if i.ticker in {"AAPL", "MSTR"}]
    return deploy_issuance(chain, roles, instruments)


@pytest.fixture(autouse=True)
def snapshot(chain: InProcessChain, deployment: IssuanceDeployment) -> Iterator[None]:
    """Undo each test's transactions on the module's chain."""
    taken = chain.snapshot()
    yield
    chain.revert_to(taken)


@pytest.fixture
def holder(chain: InProcessChain) -> str:
    return chain.accounts[10]


@pytest.fixture
def token(chain: InProcessChain, deployment: IssuanceDeployment) -> Contract:
    return chain.at(deployment.instrument("AAPL").token, compile_contract("token/StockToken.vy"))


@pytest.fixture
def feed(chain: InProcessChain, deployment: IssuanceDeployment) -> Contract:
    return chain.at(deployment.instrument("AAPL").reserve_feed, compile_contract("oracle/ReserveFeed.vy"))


def attest(chain: InProcessChain, feed: Contract, roles: IssuerRoles, reserves: int) -> None:
    feed.update(reserves, chain.timestamp(), sender=roles.attester)


def test_deployment_matches_the_catalogue(
    chain: InProcessChain, deployment: IssuanceDeployment, roles: IssuerRoles, token: Contract
) -> None:
    mstr = chain.at(deployment.instrument("MSTR").token, token.abi)

    assert deployment.chain_id == 31337
    assert token.symbol() == "AAPLx"
    assert token.isin() == "US0378331005"
    assert (token.compliance_profile(), mstr.compliance_profile()) == (0, 1)
    assert token.owner() == roles.admin
    assert token.hasRole(token.MINTER_ROLE(), roles.minter)


def test_secure_mint_is_gated_by_reserves(
    chain: InProcessChain, roles: IssuerRoles, token: Contract, feed: Contract, holder: str
) -> None:
    with pytest.raises(RevertError, match="feed: no data"):
        token.mint(holder, SHARE, sender=roles.minter)
    attest(chain, feed, roles, 10 * SHARE)

    assert token.mint(holder, 10 * SHARE, sender=roles.minter).succeeded
    with pytest.raises(RevertError, match="secure mint: supply would exceed reserves"):
        token.mint(holder, 1, sender=roles.minter)
    assert token.balanceOf(holder) == 10 * SHARE


def test_stale_reserves_block_mints(
    chain: InProcessChain, roles: IssuerRoles, token: Contract, feed: Contract, holder: str
) -> None:
    attest(chain, feed, roles, 10 * SHARE)
    chain.increase_time(token.reserve_heartbeat() + 1)
    chain.mine()

    with pytest.raises(RevertError, match="secure mint: reserve answer is stale"):
        token.mint(holder, SHARE, sender=roles.minter)


def test_a_prepared_mint_sent_twice_mints_once(
    chain: InProcessChain, roles: IssuerRoles, token: Contract, feed: Contract, holder: str
) -> None:
    attest(chain, feed, roles, 10 * SHARE)
    data = token.mint.encode(holder, 4 * SHARE)
    signed = chain.prepare(token.address, data, sender=roles.minter, nonce=chain.nonce(roles.minter))

    assert chain.receipt(signed.tx_hash) is None
    chain.send_raw(signed.raw)
    chain.send_raw(signed.raw)  # as after a crash between broadcast and recording the receipt

    receipt = chain.receipt(signed.tx_hash)
    assert receipt is not None
    assert receipt.succeeded
    assert token.balanceOf(holder) == 4 * SHARE
    assert [e.name for e in token.decode_logs(receipt)].count("Transfer") == 1


def test_a_prepared_mint_that_reserves_no_longer_cover_fails_with_the_reason(
    chain: InProcessChain, roles: IssuerRoles, token: Contract, feed: Contract, holder: str
) -> None:
    attest(chain, feed, roles, 10 * SHARE)
    signed = chain.prepare(
        token.address,
        token.mint.encode(holder, 10 * SHARE),
        sender=roles.minter,
        nonce=chain.nonce(roles.minter),
    )
    attest(chain, feed, roles, 5 * SHARE)

    receipt = chain.wait_for_receipt(chain.send_raw(signed.raw))

    assert receipt.status == 0
    with pytest.raises(RevertError, match="secure mint: supply would exceed reserves"):
        token.mint.call(holder, 10 * SHARE, sender=roles.minter)
    assert token.balanceOf(holder) == 0
