"""A minter deployed beside each issued token holds the token's minter and burner roles, accepts the
issuer's quote signer, pays and is paid at the treasury, and is found again from its JSON record."""

from pathlib import Path

from tests.support.attestation_desk import MINTED, SIGNER_INDEX, Desk, build_desk
from tests.support.platform import IN_SESSION

from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.attestation.deployment import MinterSettings, minter_records
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database


def test_minters_are_deployed_with_their_roles_limits_and_record(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    desk: Desk = build_desk(inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION)
    roles, settings = desk.platform.onchain.roles, MinterSettings()
    assert sorted(desk.minters.minters) == sorted(MINTED)
    assert desk.minters.signer == inproc_chain.accounts[SIGNER_INDEX]
    for ticker in MINTED:
        minter, token = desk.minter(ticker), desk.platform.token(ticker)
        assert minter.token() == token.address
        assert minter.signer() == desk.minters.signer
        assert minter.treasury() == roles.operator
        assert minter.price_feed() == desk.platform.onchain.deployment.instrument(ticker).price_feed
        assert token.hasRole(token.MINTER_ROLE(), minter.address)
        assert token.hasRole(token.BURNER_ROLE(), minter.address)
        assert minter.hasRole(minter.PAUSER_ROLE(), roles.pauser)
        assert tuple(minter.user_rate_limit()) == (
            settings.user_limit.limit.units,
            settings.user_limit.decay_per_second.units,
        )
        assert int(desk.platform.usdc.allowance(roles.operator, minter.address)) == 2**256 - 1
    assert not desk.platform.token("HOOD").hasRole(
        desk.platform.token("HOOD").MINTER_ROLE(), desk.minter("AAPL").address
    )

    records = minter_records(tmp_path / "deployments")
    assert records.load(inproc_chain.chain_id) is None
    records.save(inproc_chain.chain_id, desk.minters)
    assert records.load(inproc_chain.chain_id) == desk.minters
    assert records.path(inproc_chain.chain_id).name == f"attestation-chain-{inproc_chain.chain_id}.json"
