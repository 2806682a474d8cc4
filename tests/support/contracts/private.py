"""A private-company share token with its registry, sanctions list and valuation feed, every role held
by its named actor, and a snapshot of everything a refused call must leave as it was."""

from dataclasses import dataclass
from typing import Any

import boa
from tests.support.contracts import DECIMALS, actor, deployer, register

PRIVATE_TOKEN = deployer("token/PrivateShareToken.vy")
VALUATION_FEED = deployer("oracle/ValuationFeed.vy")
REGISTRY = deployer("compliance/IdentityRegistry.vy")
SANCTIONS = deployer("compliance/SanctionsList.vy")

DAY = 86_400
YEAR = 365 * DAY


@dataclass
class PrivateWorld:
    token: Any
    registry: Any
    sanctions: Any
    valuation: Any
    admin: str
    issuer: str
    agent: str
    pauser: str
    compliance: str
    registrar: str

    def register(self, investor_id: int, *wallets: str, accredited: bool = True, **kwargs: Any) -> None:
        """Register an investor with `wallets` in the token's registry."""
        register(self.registry, self.registrar, investor_id, *wallets, accredited=accredited, **kwargs)

    def issue(self, holder: str, amount: int, unlock_at: int = 0, round_id: int = 1) -> None:
        with boa.env.prank(self.issuer):
            self.token.issue(holder, amount, unlock_at, round_id)

    def request(self, sender: str, receiver: str, amount: int) -> int:
        with boa.env.prank(sender):
            request_id: int = self.token.request_transfer(receiver, amount)
        return request_id

    def approve(self, request_id: int) -> None:
        with boa.env.prank(self.agent):
            self.token.approve_transfer(request_id)

    def reject(self, request_id: int, reason: str) -> None:
        with boa.env.prank(self.agent):
            self.token.reject_transfer(request_id, reason)

    def sanction(self, *accounts: str) -> None:
        with boa.env.prank(self.admin):
            self.sanctions.addToSanctionsList(list(accounts))

    def snapshot(self, *accounts: str) -> dict[str, Any]:
        """Everything about `accounts` and the requests a refused call must leave as it was."""
        token = self.token
        count = token.request_count()
        return {
            "supply": token.totalSupply(),
            "count": count,
            "holders": self.registry.holder_count(token.address),
            "requests": [tuple(token.request(i)) for i in range(1, count + 1)],
            "accounts": {
                a: (token.balanceOf(a), token.pending_out(a), [tuple(lot) for lot in token.lots(a)])
                for a in accounts
            },
        }


def deploy_private_world(name: str = "pv") -> PrivateWorld:
    """Deploy a token, registry, sanctions list and valuation feed; grant each role to its actor."""
    admin, issuer, agent, pauser, compliance, registrar = (
        actor(f"{name}-{role}") for role in ("admin", "issuer", "agent", "pauser", "compliance", "registrar")
    )
    with boa.env.prank(admin):
        registry = REGISTRY.deploy()
        registry.grantRole(registry.REGISTRAR_ROLE(), registrar)
        sanctions = SANCTIONS.deploy()
        valuation = VALUATION_FEED.deploy(DECIMALS, "ACME / USD (issuer valuation)")
        valuation.grantRole(valuation.UPDATER_ROLE(), issuer)
        token = PRIVATE_TOKEN.deploy(
            "Acme Robotics Inc. common stock",
            "ACME",
            DECIMALS,
            "",
            "https://equitoken.example/terms/ACME",
            sanctions.address,
            registry.address,
            valuation.address,
        )
        token.grantRole(token.ISSUER_ROLE(), issuer)
        token.grantRole(token.TRANSFER_AGENT_ROLE(), agent)
        token.grantRole(token.PAUSER_ROLE(), pauser)
        token.grantRole(token.COMPLIANCE_AGENT_ROLE(), compliance)
    with boa.env.prank(registrar):
        registry.bind_token(token.address)
    return PrivateWorld(
        token, registry, sanctions, valuation, admin, issuer, agent, pauser, compliance, registrar
    )
