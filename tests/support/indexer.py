"""Helpers for the indexer's tests: an issuance platform with an issuer of its own on any chain, mints
through the real issuer, and a comparison of what was indexed with what the chain says."""

from pathlib import Path

from tests.support.platform import USDC, Platform, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.indexer import Indexer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database

TOKEN_UNIT = 10**8  # the catalogue's tokens have 8 decimals


def platform_on(
    chain: EvmChain,
    price_source: ReplayPriceSource,
    market_calendar: MarketCalendar,
    directory: Path,
) -> Platform:
    """Deploy an issuance platform on ``chain`` with an issuer of its own (its own SQLite database)."""
    directory.mkdir(parents=True, exist_ok=True)
    issuer_db = Database(f"sqlite:///{directory / 'issuer.sqlite'}")
    issuer_db.migrate()
    return build_platform(chain, issuer_db, price_source, market_calendar, directory)


def mint(platform: Platform, ticker: str, quantity: str, key: str) -> None:
    """Mint ``quantity`` shares of ``ticker`` to the participant's wallet through the issuer's workflow."""
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, ticker, quantity, key)
    platform.run()


def assert_matches_chain(indexer: Indexer, platform: Platform, holders: list[str]) -> None:
    """Check every indexed balance (raw and UI) and supply of ``platform``'s chain against the contracts."""
    chain_id = platform.chain.chain_id
    for deployed in platform.onchain.deployment.instruments:
        token = platform.token(deployed.ticker)
        indexed = {b.holder: b for b in indexer.holders(deployed.ticker, chain_id)}
        for holder in holders:
            raw = int(token.balanceOf(holder))
            assert (indexed[holder].raw if holder in indexed else 0) == raw, (deployed.ticker, holder)
            if raw:
                assert indexed[holder].ui == int(token.balanceOfUI(holder)), (deployed.ticker, holder)
        assert set(indexed) <= set(holders), (
            f"{deployed.ticker}: unexpected holders {set(indexed) - set(holders)}"
        )
        supply = {s.chain_id: s.raw for s in indexer.supply(deployed.ticker)}
        assert supply.get(chain_id, 0) == int(token.totalSupply()), deployed.ticker
