"""The derivatives `up` runs beside a real issuer on the in-process chain: the perpetuals venue deployed once
and recorded, gaining the markets of instruments added later, its vault seeded by the demo desk exactly once
across a crash; the synthetics and their pools deployed once, each seeded once its market is priced; and
the CFD venue in the exchange's directory, priced in shares from the token feeds, a
token's split applied to its positions once across a restart, and each session's financing charged."""

from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.lending_platform import publish
from tests.support.platform import GENESIS, Platform, build_platform

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price, Usd
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.platform.cfd import CfdFeeder, listing_multipliers, open_cfd
from equitoken.platform.lending import SEED_KEY, lender_wallet
from equitoken.platform.local import ACCOUNTS
from equitoken.platform.perps import VAULT_USDC, PerpsSeed, open_perps, perps_records
from equitoken.platform.synths import SEED_COLLATERAL, SynthsSeed, open_synths
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.cfd.instruments import SIZE_ONE
from equitoken.venues.cfd.positions import CfdSide
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.synths.actions import SynthsClient

WAD = 10**18


@pytest.fixture
def platform(tmp_path: Path, prices: ReplayPriceSource, calendar: MarketCalendar) -> Platform:
    # As many accounts as the local node: the demo desk is account 19.
    database = Database(sqlite_url(tmp_path / "issuer.sqlite"))
    database.migrate()
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    return build_platform(chain, database, prices, calendar, tmp_path)


def _transmit(platform: Platform, ticker: str, share_price: int) -> None:
    """Sign and send `ticker`'s next OPEN round at `share_price` (8 decimals), observed now."""
    chain, roles = platform.chain, platform.onchain.roles
    feed = chain.at(
        platform.onchain.deployment.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
    )
    round_id = int(feed.latestRoundStatus()[0]) + 1
    at = int(platform.clock.now().timestamp())
    observation = Observation(
        FeedId(chain.chain_id, feed.address), round_id, Price(share_price), MarketStatus.OPEN, at
    )
    signed = observation.sign(chain.signers.get(roles.price_updater))
    feed.transmit(round_id, [signed.as_call_argument()], sender=roles.admin)


def test_the_perpetuals_venue_is_deployed_once_and_gains_the_markets_of_new_instruments(
    platform: Platform, tmp_path: Path
) -> None:
    progress: list[str] = []
    first = open_perps(platform.issuer, tmp_path, progress.append, ["AAPL"])
    assert list(first.markets) == ["AAPL"]
    assert progress == ["deploying the perpetuals venue with a market for each of AAPL"]
    assert perps_records(tmp_path / "deployments").load(platform.chain.chain_id) == first

    progress.clear()
    grown = open_perps(platform.issuer, tmp_path, progress.append)  # every ticker the venues trade

    assert list(grown.markets) == ["AAPL", "MSTR"]
    assert progress == ["adding the perpetual markets of MSTR"]
    assert (grown.vault, grown.markets["AAPL"]) == (first.vault, first.markets["AAPL"])
    vault = grown.vault_contract(platform.chain)
    assert all(vault.is_market(market.address) for market in grown.markets.values())

    block = platform.chain.block_number()
    progress.clear()
    assert open_perps(platform.issuer, tmp_path, progress.append) == grown
    assert (progress, platform.chain.block_number()) == ([], block)


def test_the_demo_desk_seeds_the_vault_once_across_a_crash_and_restarts(
    platform: Platform, tmp_path: Path
) -> None:
    perps = open_perps(platform.issuer, tmp_path, lambda _: None)
    client = PerpsClient(
        platform.chain, perps, platform.issuer.db, platform.clock, outbox=platform.onchain.outbox
    )
    desk = lender_wallet()
    # A run that crashed once the deposit was sent, before recording it.
    platform.usdc.mint(desk, VAULT_USDC, sender=platform.onchain.roles.admin)
    client.deposit(desk, Usd(VAULT_USDC), key=SEED_KEY)

    seed = PerpsSeed(platform.issuer, client, tmp_path)
    assert seed.deposit()
    assert seed.done
    assert not PerpsSeed(platform.issuer, client, tmp_path).deposit()  # a restart

    vault = perps.vault_contract(platform.chain)
    assert int(vault.totalAssets()) == VAULT_USDC
    assert int(vault.convertToAssets(int(vault.balanceOf(desk)))) == VAULT_USDC


def test_the_cfd_venue_prices_in_shares_applies_a_split_once_and_charges_financing(
    platform: Platform, tmp_path: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    issuance, chain = platform.onchain.deployment, platform.chain
    venue = open_cfd(tmp_path, issuance, platform.clock, calendar)
    assert sorted(venue.engine.instruments) == ["AAPL", "MSTR"]  # HOOD is restricted
    assert (tmp_path / "exchange" / "cfd.journal").is_file()
    listing = listing_multipliers(chain, issuance, venue, tmp_path)
    assert listing == {"AAPL": WAD, "MSTR": WAD}
    feeder = CfdFeeder(venue, chain, issuance, listing, platform.clock)
    publish(platform, prices, "AAPL")
    feeder.tick()
    share = prices.quote("AAPL", platform.clock.now()).price.units
    quote = venue.quote("AAPL")
    assert quote is not None
    assert quote.mid == share
    venue.deposit(7, 100_000 * 10**6, "funding-1")
    venue.open_position(7, "AAPL", CfdSide.LONG, 10 * SIZE_ONE, leverage=2)

    # A 2-for-1 split: the token's multiplier doubles a minute from now, the share price halves.
    effective = platform.clock.now() + timedelta(minutes=1)
    token = platform.onchain.token("AAPL")
    token.setUIMultiplier(
        2 * WAD, int(effective.timestamp()), sender=platform.onchain.roles.multiplier_updater
    )
    platform.clock.advance(timedelta(hours=2))
    _transmit(platform, "AAPL", share // 2)  # the post-split share price: the token price is unchanged
    lines = feeder.tick()

    assert lines == ["cfd: AAPL split 2 for 1: positions resized"]
    [position] = venue.positions(7)
    assert position.size == 20 * SIZE_ONE
    assert venue.engine.split_ratio("AAPL") == (2, 1)
    venue.close()

    # A restart replays the journal: the split is not applied again, and a new round is taken.
    again = open_cfd(tmp_path, issuance, platform.clock, calendar)
    feeder = CfdFeeder(
        again, chain, issuance, listing_multipliers(chain, issuance, again, tmp_path), platform.clock
    )
    assert feeder.tick() == []
    [position] = again.positions(7)
    assert position.size == 20 * SIZE_ONE

    # The session closes: financing is charged once.
    session = calendar.next_session(platform.clock.now())
    platform.clock.set(session.close + timedelta(minutes=5))
    charged = feeder.tick()
    assert len(charged) == 1
    assert charged[0].startswith(f"cfd: financing of the session of {session.date}")
    assert feeder.tick() == []
    again.close()


def test_the_synthetics_are_deployed_once_and_the_desk_seeds_each_once_across_a_restart(
    platform: Platform, tmp_path: Path, prices: ReplayPriceSource
) -> None:
    progress: list[str] = []
    synths = open_synths(platform.issuer, tmp_path, progress.append)
    assert list(synths.synths) == ["AAPL", "MSTR"]
    assert progress == ["deploying the synthetic stocks sAAPL, sMSTR with their pools"]
    block = platform.chain.block_number()
    assert open_synths(platform.issuer, tmp_path, progress.append) == synths
    assert platform.chain.block_number() == block
    client = SynthsClient(
        platform.chain, synths, platform.issuer.db, platform.clock, outbox=platform.onchain.outbox
    )
    seed = SynthsSeed(platform.issuer, client, tmp_path)
    assert seed.seed() == []  # no price yet: the vaults are suspended, nothing is sent
    assert platform.chain.block_number() == block

    publish(platform, prices, "AAPL")
    assert seed.seed() == ["AAPL"]
    publish(platform, prices, "MSTR")
    assert SynthsSeed(platform.issuer, client, tmp_path).seed() == ["MSTR"]  # a restart: AAPL stays done
    assert SynthsSeed(platform.issuer, client, tmp_path).done

    desk = lender_wallet()
    for ticker in synths.synths:
        [position] = client.reader.positions(ticker, desk)
        assert position.collateral == Usd(SEED_COLLATERAL)
        pool = synths.pool(platform.chain, ticker)
        synth = synths.token(platform.chain, ticker)
        assert int(synth.balanceOf(pool.address)) * 2 == position.debt.units - position.debt.units % 2
        assert int(pool.totalSupply()) > 0
