"""The issuance contracts on a real anvil node, deployed and driven through the platform's JSON-RPC path."""

from collections.abc import Iterator

import pytest
from bench.gas import sign_token_permit
from eth_account.signers.local import LocalAccount

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue

pytestmark = pytest.mark.anvil

SHARE = 10**8
ONE = 10**18
COUNTRY_DE = 276


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    with AnvilNode(accounts=12, log_file=tmp_path_factory.mktemp("anvil") / "anvil.log") as started:
        yield started


@pytest.fixture(scope="module")
def chain(node: AnvilNode) -> Iterator[JsonRpcChain]:
    with node.chain() as connected:
        yield connected


@pytest.fixture(scope="module")
def roles(node: AnvilNode) -> IssuerRoles:
    return IssuerRoles.from_accounts(node.accounts)


@pytest.fixture(scope="module")
def deployment(chain: JsonRpcChain, roles: IssuerRoles) -> IssuanceDeployment:
    wanted = {"AAPL", "MSTR", "HOOD"}
    instruments = [i for i in load_catalogue() if i.ticker in wanted]
    return deploy_issuance(chain, roles, instruments)


@pytest.fixture
def snapshot(chain: JsonRpcChain) -> Iterator[None]:
    """Undo each test's transactions on the shared node."""
    taken = chain.snapshot()
    yield
    chain.revert_to(taken)


def token_of(chain: JsonRpcChain, deployment: IssuanceDeployment, ticker: str) -> Contract:
    return chain.at(deployment.instrument(ticker).token, compile_contract("token/StockToken.vy"))


def reserve_feed_of(chain: JsonRpcChain, deployment: IssuanceDeployment, ticker: str) -> Contract:
    return chain.at(deployment.instrument(ticker).reserve_feed, compile_contract("oracle/ReserveFeed.vy"))


def attest(chain: JsonRpcChain, feed: Contract, roles: IssuerRoles, reserves: int) -> None:
    chain.mine()
    feed.update(reserves, chain.timestamp(), sender=roles.attester)


@pytest.fixture
def holder(node: AnvilNode) -> str:
    return node.accounts[10]


@pytest.fixture
def receiver(node: AnvilNode) -> str:
    return node.accounts[11]


@pytest.mark.usefixtures("snapshot")
def test_deployment_matches_the_catalogue(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles
) -> None:
    token = token_of(chain, deployment, "AAPL")
    assert token.symbol() == "AAPLx"
    assert token.isin() == "US0378331005"
    assert token.decimals() == 8
    assert token.compliance_profile() == 0
    assert token_of(chain, deployment, "MSTR").compliance_profile() == 1
    assert token_of(chain, deployment, "HOOD").compliance_profile() == 2
    assert token.owner() == roles.admin
    assert token.hasRole(token.MINTER_ROLE(), roles.minter)
    assert token.reserve_feed() == deployment.instrument("AAPL").reserve_feed


@pytest.mark.usefixtures("snapshot")
def test_secure_mint_then_transfer(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str, receiver: str
) -> None:
    token = token_of(chain, deployment, "AAPL")
    feed = reserve_feed_of(chain, deployment, "AAPL")
    with pytest.raises(RevertError, match="feed: no data"):
        token.mint(holder, SHARE, sender=roles.minter)
    attest(chain, feed, roles, 10 * SHARE)
    receipt = token.mint(holder, 10 * SHARE, sender=roles.minter)
    assert receipt.succeeded
    with pytest.raises(RevertError, match="secure mint: supply would exceed reserves"):
        token.mint(holder, 1, sender=roles.minter)
    transfer = token.transfer(receiver, 3 * SHARE, sender=holder)
    (event,) = token.decode_logs(transfer)
    assert event.name == "Transfer"
    assert token.balanceOf(holder) == 7 * SHARE
    assert token.balanceOf(receiver) == 3 * SHARE


@pytest.mark.usefixtures("snapshot")
def test_stale_reserves_block_mints_on_anvil(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str
) -> None:
    token = token_of(chain, deployment, "AAPL")
    attest(chain, reserve_feed_of(chain, deployment, "AAPL"), roles, 10 * SHARE)
    chain.increase_time(token.reserve_heartbeat() + 1)
    chain.mine()
    with pytest.raises(RevertError, match="secure mint: reserve answer is stale"):
        token.mint(holder, SHARE, sender=roles.minter)


@pytest.mark.usefixtures("snapshot")
def test_permit_then_transfer_from(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str, receiver: str
) -> None:
    token = token_of(chain, deployment, "AAPL")
    attest(chain, reserve_feed_of(chain, deployment, "AAPL"), roles, 10 * SHARE)
    token.mint(holder, 10 * SHARE, sender=roles.minter)
    key: LocalAccount = chain.signers.get(holder)
    v, r, s = sign_token_permit(token, key, receiver, 4 * SHARE)
    token.permit(holder, receiver, 4 * SHARE, 2**40, v, r, s, sender=receiver)
    assert token.allowance(holder, receiver) == 4 * SHARE
    token.transferFrom(holder, receiver, 4 * SHARE, sender=receiver)
    assert token.balanceOf(receiver) == 4 * SHARE
    with pytest.raises(RevertError, match="erc20: invalid signature"):
        token.permit(holder, receiver, 4 * SHARE, 2**40, v, r, s, sender=receiver)


@pytest.mark.usefixtures("snapshot")
def test_pause_stops_transfers_on_anvil(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str, receiver: str
) -> None:
    token = token_of(chain, deployment, "AAPL")
    attest(chain, reserve_feed_of(chain, deployment, "AAPL"), roles, 10 * SHARE)
    token.mint(holder, 10 * SHARE, sender=roles.minter)
    token.pause(sender=roles.pauser)
    with pytest.raises(RevertError, match="token is paused"):
        token.transfer(receiver, SHARE, sender=holder)
    assert tuple(token.can_transfer(holder, receiver, SHARE)) == (1, "token is paused")
    token.unpause(sender=roles.pauser)
    token.transfer(receiver, SHARE, sender=holder)
    assert token.balanceOf(receiver) == SHARE


@pytest.mark.usefixtures("snapshot")
def test_split_takes_effect_at_its_block_time(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str
) -> None:
    token = token_of(chain, deployment, "AAPL")
    attest(chain, reserve_feed_of(chain, deployment, "AAPL"), roles, 10 * SHARE)
    token.mint(holder, 10 * SHARE, sender=roles.minter)
    effective = chain.timestamp() + 3_600
    receipt = token.setUIMultiplier(4 * ONE, effective, sender=roles.multiplier_updater)
    (event,) = token.decode_logs(receipt)
    assert event.name == "UIMultiplierUpdated"
    assert event.args["newMultiplier"] == 4 * ONE
    assert token.balanceOfUI(holder) == 10 * SHARE
    chain.set_next_block_timestamp(effective)
    chain.mine()
    assert token.uiMultiplier() == 4 * ONE
    assert token.balanceOfUI(holder) == 40 * SHARE
    assert token.balanceOf(holder) == 10 * SHARE
    assert token.uiMultiplierAt(effective - 1) == ONE


@pytest.mark.usefixtures("snapshot")
def test_permissioned_token_on_anvil(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str, receiver: str
) -> None:
    token = token_of(chain, deployment, "MSTR")
    registry = chain.at(deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    attest(chain, reserve_feed_of(chain, deployment, "MSTR"), roles, 10 * SHARE)
    with pytest.raises(RevertError, match="receiver is not a verified investor"):
        token.mint(holder, SHARE, sender=roles.minter)
    expiry = chain.timestamp() + 86_400
    registry.set_investor(1, COUNTRY_DE, expiry, True, sender=roles.registrar)
    registry.add_wallet(1, holder, sender=roles.registrar)
    token.mint(holder, 5 * SHARE, sender=roles.minter)
    with pytest.raises(RevertError, match="receiver is not a verified investor"):
        token.transfer(receiver, SHARE, sender=holder)
    assert registry.holder_count(token.address) == 1


@pytest.mark.usefixtures("snapshot")
def test_sanctions_on_anvil(
    chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles, holder: str, receiver: str
) -> None:
    token = token_of(chain, deployment, "AAPL")
    sanctions = chain.at(deployment.sanctions_list, compile_contract("compliance/SanctionsList.vy"))
    attest(chain, reserve_feed_of(chain, deployment, "AAPL"), roles, 10 * SHARE)
    token.mint(holder, 5 * SHARE, sender=roles.minter)
    sanctions.addToSanctionsList([receiver], sender=roles.admin)
    with pytest.raises(RevertError, match="receiver is sanctioned"):
        token.transfer(receiver, SHARE, sender=holder)
