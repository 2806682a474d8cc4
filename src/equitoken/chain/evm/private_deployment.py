"""Deploy a private company's share token and its issuer valuation feed beside the issuance layer.

A private company has no listing, so none of a stock token's market machinery applies: no reserve feed
(the token is the share register itself), no quorum price feed. Its token is `PrivateShareToken`
(transfers approved by the transfer agent, lock-ups per issuance, accredited holders only) and its
price is the issuer's `ValuationFeed`. Both share the issuance layer's identity registry and sanctions
list, so an investor verified once is known to both kinds of token.
"""

import json
from dataclasses import asdict, dataclass

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import PRICE_DECIMALS, IssuerRoles
from equitoken.model.instrument import Instrument, InvalidInstrumentError

PRIVATE_TOKEN = "token/PrivateShareToken.vy"
VALUATION_FEED = "oracle/ValuationFeed.vy"


@dataclass(frozen=True)
class PrivateRoles:
    """The accounts that hold each role of a private company's token and valuation feed."""

    admin: str
    issuer: str
    transfer_agent: str
    pauser: str
    compliance_agent: str
    registrar: str

    @classmethod
    def from_issuer_roles(cls, roles: IssuerRoles) -> "PrivateRoles":
        """Give the issuance layer's holders the matching roles: its minter issues and buys back, its
        operator (who alone moves restricted tokens) is the transfer agent."""
        return cls(
            roles.admin, roles.minter, roles.operator, roles.pauser, roles.compliance_agent, roles.registrar
        )


@dataclass(frozen=True)
class DeployedPrivateCompany:
    """Where one private company's token and valuation feed live on a chain."""

    chain_id: int
    ticker: str
    token_symbol: str
    token: str
    valuation_feed: str
    identity_registry: str
    sanctions_list: str

    def to_json(self) -> str:
        """Serialise the record."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "DeployedPrivateCompany":
        """Parse a record written by `to_json`."""
        return cls(**json.loads(text))


def deploy_private_company(
    chain: EvmChain,
    roles: PrivateRoles,
    instrument: Instrument,
    *,
    identity_registry: str,
    sanctions_list: str,
) -> DeployedPrivateCompany:
    """Deploy `instrument`'s valuation feed and share token, grant the roles, bind it in the registry."""
    if instrument.listed:
        raise InvalidInstrumentError(
            f"{instrument.ticker} is a listed {instrument.kind}: it gets a stock token (deploy_issuance), "
            "not a private share token"
        )
    admin = roles.admin
    feed = chain.deploy_contract(
        compile_contract(VALUATION_FEED),
        PRICE_DECIMALS,
        f"{instrument.token_symbol} / USD (issuer valuation)",
        sender=admin,
    )
    feed.grantRole(feed.UPDATER_ROLE(), roles.issuer, sender=admin)
    token = chain.deploy_contract(
        compile_contract(PRIVATE_TOKEN),
        instrument.name,
        instrument.token_symbol,
        instrument.token_decimals,
        str(instrument.isin),
        f"https://equitoken.example/terms/{instrument.token_symbol}",
        sanctions_list,
        identity_registry,
        feed.address,
        sender=admin,
    )
    for role, holder in (
        ("ISSUER_ROLE", roles.issuer),
        ("TRANSFER_AGENT_ROLE", roles.transfer_agent),
        ("PAUSER_ROLE", roles.pauser),
        ("COMPLIANCE_AGENT_ROLE", roles.compliance_agent),
    ):
        token.grantRole(token.function(role)(), holder, sender=admin)
    registry = chain.at(identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    registry.bind_token(token.address, sender=roles.registrar)
    return DeployedPrivateCompany(
        chain_id=chain.chain_id,
        ticker=instrument.ticker,
        token_symbol=instrument.token_symbol,
        token=token.address,
        valuation_feed=feed.address,
        identity_registry=identity_registry,
        sanctions_list=sanctions_list,
    )


def private_token(chain: EvmChain, deployed: DeployedPrivateCompany) -> Contract:
    """Return the deployed share token."""
    return chain.at(deployed.token, compile_contract(PRIVATE_TOKEN))


def valuation_feed(chain: EvmChain, deployed: DeployedPrivateCompany) -> Contract:
    """Return the deployed valuation feed."""
    return chain.at(deployed.valuation_feed, compile_contract(VALUATION_FEED))
