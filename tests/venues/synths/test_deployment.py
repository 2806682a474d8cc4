"""`deploy_synths` on the in-process chain: a synthetic and its vault per ticker over the ticker's own
feed, the vault the only minter, an optional pool priced by the underlying's feed, the record's JSON
round trip, and every bad request refused before anything is sent."""

import pytest
from tests.support.synths import SYNTH, SynthsWorld, synths
from tests.support.venue_world import USDC

from equitoken.model.quantities import Usd
from equitoken.venues.synths.deployment import SynthsDeployment, deploy_synths
from equitoken.venues.synths.errors import SynthsError, UnknownSynthError
from equitoken.venues.synths.parameters import WAD, SynthSettings


def test_each_ticker_gets_its_synthetic_and_vault(world: SynthsWorld) -> None:
    for ticker in ("AAPL", "MSFT"):
        deployed = world.synths.synth(ticker)
        synth, vault = world.synth(ticker), world.vault(ticker)
        instrument = world.issuance.instrument(ticker)
        assert (synth.function("name")(), synth.symbol(), synth.decimals()) == (
            f"Equitoken Synthetic {ticker}",
            f"s{ticker}",
            18,
        )
        assert synth.is_minter(vault.address)
        assert not synth.is_minter(world.roles.admin)
        assert (vault.price_feed(), vault.token(), vault.usdc(), vault.synth()) == (
            instrument.price_feed,
            instrument.token,
            world.usdc.address,
            synth.address,
        )
        assert (deployed.price_feed, deployed.token) == (instrument.price_feed, instrument.token)
        assert vault.guard_limits()[0] == 60
        assert vault.owner() == world.roles.admin
        pool = world.synths.pool(world.chain, ticker)
        assert (pool.stock(), pool.usdc(), pool.price_feed()) == (
            synth.address,
            world.usdc.address,
            instrument.price_feed,
        )


def test_the_record_round_trips_through_json(world: SynthsWorld) -> None:
    assert SynthsDeployment.from_json(world.synths.to_json()) == world.synths
    with pytest.raises(UnknownSynthError, match="no synthetic for 'TSLA'"):
        world.synths.synth("TSLA")


def test_settings_are_applied(world: SynthsWorld) -> None:
    settings = SynthSettings(min_collateral_ratio=2 * WAD, liquidation_penalty=WAD // 20, max_age=120)
    deployed = deploy_synths(
        world.chain,
        world.roles.admin,
        world.usdc.address,
        world.issuance,
        ["AAPL"],
        settings={"AAPL": settings},
    )
    vault = deployed.vault(world.chain, "AAPL")
    assert (vault.min_collateral_ratio(), vault.liquidation_penalty(), vault.guard_limits()[0]) == (
        2 * WAD,
        WAD // 20,
        120,
    )
    assert deployed.synth("AAPL").pool is None


@pytest.mark.parametrize(
    ("tickers", "settings", "match"),
    [
        (["TSLA"], {}, "TSLA not deployed"),
        (["AAPL", "AAPL"], {}, "tickers repeat"),
        ([], {}, "no tickers"),
        (["AAPL"], {"MSFT": SynthSettings()}, "settings given for MSFT"),
    ],
)
def test_bad_requests_send_nothing(
    world: SynthsWorld, tickers: list[str], settings: dict[str, SynthSettings], match: str
) -> None:
    nonce = world.chain.nonce(world.roles.admin, "latest")
    with pytest.raises(SynthsError, match=match):
        deploy_synths(
            world.chain, world.roles.admin, world.usdc.address, world.issuance, tickers, settings=settings
        )
    assert world.chain.nonce(world.roles.admin, "latest") == nonce


def test_bad_settings_are_refused() -> None:
    with pytest.raises(SynthsError, match="exceed 1 \\+ the liquidation penalty"):
        SynthSettings(min_collateral_ratio=WAD + WAD // 10)
    with pytest.raises(SynthsError, match="penalty is at most"):
        SynthSettings(liquidation_penalty=WAD)
    with pytest.raises(SynthsError, match="max age"):
        SynthSettings(max_age=0)


def test_a_pool_trades_the_synthetic_against_usdc(world: SynthsWorld) -> None:
    world.client.open_position(world.writer, "AAPL", Usd(3_000 * USDC), synths(10), key="seed")
    pool = world.synths.pool(world.chain, "AAPL")
    world.synth("AAPL").approve(pool.address, 2**256 - 1, sender=world.writer)
    world.usdc.approve(pool.address, 2**256 - 1, sender=world.writer)
    pool.add_liquidity(10 * SYNTH, 2_000 * USDC, 0, 0, world.writer, 2**40, sender=world.writer)
    assert tuple(pool.reserves()) == (10 * SYNTH, 2_000 * USDC)
    quoted = int(pool.get_amount_out(100 * USDC, False))
    before = int(world.synth("AAPL").balanceOf(world.writer))

    pool.swap(100 * USDC, quoted, False, world.writer, 2**40, sender=world.writer)

    assert int(world.synth("AAPL").balanceOf(world.writer)) == before + quoted
    assert 0 < quoted < SYNTH // 2
