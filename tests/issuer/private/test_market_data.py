"""A private company has no listing and no market data: every path that needs market data refuses it by
name, before it changes anything."""

from datetime import UTC, datetime

import pytest
from tests.support.platform import ACCOUNTS, GENESIS

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuerRoles, deploy_issuance, extend_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.chain.evm.private_deployment import PrivateRoles, deploy_private_company
from equitoken.durable.outbox import Outbox
from equitoken.issuer.catalogue import Catalogue
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.private.service import PrivateCompanyDesk
from equitoken.issuer.workflow.intake import Intake
from equitoken.issuer.workflow.states import RequestKind
from equitoken.market.clock import ManualClock
from equitoken.market.prices import NoPriceError
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.instrument import InvalidInstrumentError, NoMarketDataError
from equitoken.model.quantities import Shares

ACME = Catalogue.load_private().get("ACME")
AAPL = Catalogue.load().get("AAPL")
NO_MARKET = "ACME is a private company: it has no exchange listing and no market data"


@pytest.fixture(scope="module")
def chain() -> InProcessChain:
    return InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)


def test_a_stock_token_deployment_refuses_it_before_deploying_anything(chain: InProcessChain) -> None:
    roles = IssuerRoles.from_accounts(chain.accounts)
    block = chain.block_number()
    with pytest.raises(NoMarketDataError, match=f"{NO_MARKET}, so a stock token with a reserve feed"):
        deploy_issuance(chain, roles, [AAPL, ACME])
    assert chain.block_number() == block
    layer = deploy_issuance(chain, roles, [])
    block = chain.block_number()
    with pytest.raises(NoMarketDataError, match=NO_MARKET):
        extend_issuance(chain, roles, layer, [ACME])
    assert chain.block_number() == block
    # And a listed stock is not a private company.
    with pytest.raises(InvalidInstrumentError, match="AAPL is a listed stock: it gets a stock token"):
        deploy_private_company(
            chain,
            PrivateRoles.from_issuer_roles(roles),
            AAPL,
            identity_registry=layer.identity_registry,
            sanctions_list=layer.sanctions_list,
        )
    assert chain.block_number() == block


def test_the_issuer_intake_refuses_to_quote_or_take_it(
    chain: InProcessChain, prices: ReplayPriceSource
) -> None:
    roles = IssuerRoles.from_accounts(chain.accounts)
    layer = deploy_issuance(chain, roles, [])
    onchain = IssuerChain(chain, layer, roles, chain.accounts[0])
    clock = ManualClock(datetime.fromtimestamp(GENESIS, UTC))
    intake = Intake(None, onchain, prices, clock, IssuerConfig(), {"ACME": ACME})  # type: ignore[arg-type]
    with pytest.raises(NoMarketDataError, match=f"{NO_MARKET}, so a market quote is not available"):
        intake.quote(RequestKind.MINT, ACME, Shares.parse("1"))
    with pytest.raises(NoPriceError, match="unknown ticker"):
        prices.quote("ACME", clock.now())


def test_the_private_desk_refuses_a_listed_instrument(chain: InProcessChain) -> None:
    roles = IssuerRoles.from_accounts(chain.accounts)
    layer = deploy_issuance(chain, roles, [])
    private_roles = PrivateRoles.from_issuer_roles(roles)
    deployed = deploy_private_company(
        chain,
        private_roles,
        ACME,
        identity_registry=layer.identity_registry,
        sanctions_list=layer.sanctions_list,
    )
    clock = ManualClock(datetime.fromtimestamp(GENESIS, UTC))
    with pytest.raises(InvalidInstrumentError, match=r"needs a private instrument .* got stock AAPL"):
        PrivateCompanyDesk(None, Outbox(chain), chain, AAPL, deployed, private_roles, clock)  # type: ignore[arg-type]
