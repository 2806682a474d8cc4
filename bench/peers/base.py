"""What every peer measurement shares: the accounts it uses and the check that a peer's rule fires."""

from collections.abc import Callable
from dataclasses import dataclass

from equitoken.chain.errors import RevertError

DECIMALS = 8
SHARE = 10**DECIMALS
"""One share in raw units: every token moves the same raw amounts, so calldata costs the same."""


class UnenforcedRuleError(AssertionError):
    """A peer let through a transaction its rule should have refused: no figure may be recorded."""


@dataclass(frozen=True)
class PeerActors:
    """The accounts a peer is deployed and measured with (the same wallets as our tokens use)."""

    admin: str
    """Deploys the peer and holds its issuer roles (owner, agent, minter)."""
    registrar: str
    """Registers investors (T-REX's identity registry agent and claim issuer)."""
    holder: str
    other_holder: str
    spender: str
    burner: str
    new_holder: str
    """Receives the ``transfer_new`` transfer: eligible, but holds nothing before it."""
    outsiders: tuple[str, str]
    """Hold nothing and stay ineligible: the receivers of the transfers a rule must refuse."""


@dataclass(frozen=True)
class RuleCheck:
    """A rule that fired: what it forbids, and the revert reason the peer gave."""

    rule: str
    reason: str


@dataclass(frozen=True)
class PeerFigures:
    """One peer's gas per operation, with the rules checked before any figure was taken."""

    gas: dict[str, int]
    rules: tuple[RuleCheck, ...]


def expect_revert(rule: str, attempt: Callable[[], object], reason: str) -> RuleCheck:
    """Run ``attempt`` (a simulated call) and return the check; raise unless it reverts with ``reason``.

    The reason is matched too, so a call that fails for another cause (an unfunded sender, a
    paused token) does not pass for the rule.
    """
    try:
        attempt()
    except RevertError as exc:
        given = exc.reason or ""
        if reason not in given:
            raise UnenforcedRuleError(f"{rule}: reverted with {given!r}, not {reason!r}") from exc
        return RuleCheck(rule, given)
    raise UnenforcedRuleError(f"{rule}: the transaction went through")


def expect_allowed(rule: str, attempt: Callable[[], object]) -> None:
    """Run ``attempt``, the same call with only the rule's input changed; raise if it reverts.

    A refusal only shows the rule at work if the call it differs from is allowed.
    """
    try:
        attempt()
    except RevertError as exc:
        raise UnenforcedRuleError(f"{rule}: the allowed counterpart reverted too ({exc.reason!r})") from exc
