"""Kill the private-company desk for real (SIGKILL) while it approves a transfer, at each of its crash
points in turn, restart it, and check that the shares moved once and one transaction was sent."""

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.crash import KILLED, run_worker
from tests.support.platform import ACCOUNTS

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.deployment import IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.evm.private_deployment import (
    DeployedPrivateCompany,
    PrivateRoles,
    deploy_private_company,
)
from equitoken.durable.crashpoints import PRIVATE_COMPANIES
from equitoken.durable.outbox import Outbox
from equitoken.issuer.catalogue import Catalogue
from equitoken.issuer.private.service import PrivateCompanyDesk, RequestStatus
from equitoken.market.clock import ManualClock
from equitoken.model.quantities import Shares
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow

pytestmark = [
    pytest.mark.crash,
    pytest.mark.anvil,
    pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
]
US = 840


def _worker(config: dict[str, object], tmp_path: Path, crash_at: str | None) -> int:
    return run_worker("tests.issuer.private.crash_worker", config, tmp_path, crash_at)


def test_an_approval_killed_at_each_point_moves_the_shares_once(
    evm_chain: EvmChain, database: Database, tmp_path: Path
) -> None:
    chain = evm_chain
    assert isinstance(chain, JsonRpcChain)
    issuer_roles = IssuerRoles.from_accounts(chain.accounts)
    roles = PrivateRoles.from_issuer_roles(issuer_roles)
    layer = deploy_issuance(chain, issuer_roles, [])
    acme = Catalogue.load_private().get("ACME")
    deployed = deploy_private_company(
        chain, roles, acme, identity_registry=layer.identity_registry, sanctions_list=layer.sanctions_list
    )
    registry = chain.at(layer.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    founder, buyer = chain.accounts[10:12]
    for number, wallet in enumerate((founder, buyer), start=1):
        registry.set_investor(number, US, chain.timestamp() + 10**8, True, sender=roles.registrar)
        registry.add_wallet(number, wallet, sender=roles.registrar)
    clock = ManualClock(datetime.fromtimestamp(chain.timestamp(), UTC))
    desk = PrivateCompanyDesk(database, Outbox(chain), chain, acme, deployed, roles, clock)
    desk.issue(1, founder, Shares.parse("100"), None)
    desk.token.request_transfer(buyer, 30, sender=founder)
    config = {
        "rpc_url": chain.url,
        "accounts": ACCOUNTS,
        "deployed": deployed.to_json(),
        "roles": asdict(roles),
        "database_url": database.url,
        "start": clock.now().isoformat(),
        "request_id": 1,
    }

    for point in PRIVATE_COMPANIES:
        assert _worker(config, tmp_path, point) == KILLED, f"the worker never reached {point}"
        assert desk.action("private:ACME:approve:1").state == "pending"
    assert _worker(config, tmp_path, None) == 0

    assert desk.action("private:ACME:approve:1").state == "done"
    assert desk.request(1).status is RequestStatus.APPROVED
    assert (desk.balance(founder).raw, desk.balance(buyer).raw) == (70, 30)
    assert int(desk.token.pending_out(founder)) == 0
    with database.transaction() as session:
        purposes = list(session.scalars(select(ChainTransactionRow.purpose)))
    assert purposes.count("private:ACME:approve:1") == 1
    assert DeployedPrivateCompany.from_json(deployed.to_json()) == deployed
