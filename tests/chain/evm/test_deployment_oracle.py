"""Each instrument's PriceFeed, deployed by ``deploy_issuance``/``extend_issuance`` after its token,
is signed for by the oracle's reporters; ``OracleMembers`` refuses a set no quorum can govern."""

import pytest

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.deployment import IssuerRoles, OracleMembers, deploy_issuance, extend_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.model.instrument import Instrument

A, B, C = (f"0x{digit * 40}" for digit in "abc")


@pytest.fixture(scope="module")
def chain() -> InProcessChain:
    return InProcessChain(SignerRegistry.anvil(10))


@pytest.fixture(scope="module")
def roles(chain: InProcessChain) -> IssuerRoles:
    return IssuerRoles.from_accounts(chain.accounts)


def _instrument(ticker: str) -> Instrument:
    return next(i for i in load_catalogue() if i.ticker == ticker)


def test_members_accept_a_majority_quorum() -> None:
    members = OracleMembers((A, B, C), 2)

    assert (members.reporters, members.quorum) == ((A, B, C), 2)


@pytest.mark.parametrize(
    ("reporters", "quorum", "problem"),
    [
        ((), 1, "at least one reporter"),
        ((A, B, A.upper().replace("0X", "0x")), 2, "not unique"),
        ((A, B, C), 1, "not a majority"),
        ((A, B), 1, "not a majority"),
        ((A, B, C), 4, "not a majority"),
        ((A,), 0, "not a majority"),
        (tuple(f"0x{i:040x}" for i in range(1, 18)), 9, "at most 16"),
    ],
)
def test_members_reject_sets_no_quorum_governs(reporters: tuple[str, ...], quorum: int, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        OracleMembers(reporters, quorum)


def test_default_oracle_is_the_price_updater_alone(chain: InProcessChain, roles: IssuerRoles) -> None:
    deployment = deploy_issuance(chain, roles, [_instrument("AAPL")])

    deployed = deployment.instrument("AAPL")
    feed = chain.at(deployed.price_feed, compile_contract("oracle/PriceFeed.vy"))
    assert feed.reporters() == [roles.price_updater]
    assert feed.quorum() == 1
    assert feed.token() == deployed.token
    assert feed.hasRole(feed.DEFAULT_ADMIN_ROLE(), roles.admin)
    assert feed.description() == f"{deployed.token_symbol} / USD"


def test_oracle_members_sign_for_every_new_feed(chain: InProcessChain, roles: IssuerRoles) -> None:
    reporters = tuple(chain.accounts[7:10])
    oracle = OracleMembers(reporters, 2)
    deployment = deploy_issuance(chain, roles, [_instrument("AAPL")], oracle=oracle)

    extended = extend_issuance(chain, roles, deployment, [_instrument("MSTR")], oracle=oracle)

    for deployed in extended.instruments:
        feed = chain.at(deployed.price_feed, compile_contract("oracle/PriceFeed.vy"))
        assert [r.lower() for r in feed.reporters()] == [r.lower() for r in reporters]
        assert feed.quorum() == 2
        assert feed.token() == deployed.token
