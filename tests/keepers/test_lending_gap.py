"""The lending venue through MSTR's -27% weekend gap (`tests/keepers/lending_gap.py`), under the default
rules and under Morpho-style rules, with the keepers running."""

from pathlib import Path

import pytest
from tests.keepers.lending_gap import DEFAULT_RULES, MORPHO_RULES, GapReplay, replay


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> tuple[GapReplay, GapReplay]:
    root: Path = tmp_path_factory.mktemp("lending-gap")
    default = replay("default rules", DEFAULT_RULES, root / "default")
    morpho = replay("Morpho-style rules", MORPHO_RULES, root / "morpho")
    print(default.table(), morpho.table(), sep="\n")
    return default, morpho


def test_the_default_rules_leave_no_bad_debt_and_wait_out_the_opening_print(
    replays: tuple[GapReplay, GapReplay],
) -> None:
    default, _ = replays
    assert default.borrowed_ltv == "0.2850"  # 95% of the closed-market LTV, 40% - 10 points
    assert default.bad_debt_usdc == 0
    # The opening print (-27%) leaves every position healthy; only the session's low (-29.3%) does not,
    # long after the grace period.
    assert default.first_liquidation_minutes is not None
    assert default.first_liquidation_minutes >= DEFAULT_RULES.grace_period / 60
    assert all(float(record.health_factor) < 1 for record in default.liquidations)


def test_morpho_style_rules_liquidate_at_the_opening_print(replays: tuple[GapReplay, GapReplay]) -> None:
    default, morpho = replays
    assert morpho.borrowed_ltv == "0.3800"  # 95% of the LLTV: no closed-market cut
    assert morpho.first_liquidation_minutes == 0
    assert len(morpho.liquidations) == len(default.liquidations) == 4
    assert morpho.worst_ltv > default.worst_ltv
    # Borrowers lose the incentive on larger debts, at a worse health factor, hours earlier.
    assert morpho.borrowers_loss_usdc > default.borrowers_loss_usdc
    assert max(float(r.health_factor) for r in morpho.liquidations) < min(
        float(r.health_factor) for r in default.liquidations
    )


def test_every_liquidation_repaid_what_it_seized_times_at_most_the_incentive(
    replays: tuple[GapReplay, GapReplay],
) -> None:
    for result in replays:
        assert result.repaid_usdc > 0
        # LIF for LLTV 40%: min(1.15, 1 / (1 - 0.3 * 0.6)) = 1.15
        assert result.seized_value_usdc <= result.repaid_usdc * 115 // 100 + 1
        assert result.sold_usdc >= result.sold_oracle_value_usdc * 99 // 100
