"""Kill the private-company desk for real (SIGKILL) while it approves a transfer, at each of its crash
points in turn, restart it, and check that the shares moved once and one transaction was sent."""

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
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
from equitoken.durable.crashpoints import CRASH_ENV, PRIVATE_COMPANIES
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
ROOT = Path(__file__).resolve().parents[3]
US = 840


def _worker(config: dict[str, object], tmp_path: Path, crash_at: str | None) -> int:
    path = tmp_path / "worker.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", "tests.issuer.private.crash_worker", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"worker failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.returncode


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
        assert _worker(config, tmp_path, point) == -signal.SIGKILL, f"the worker never reached {point}"
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
