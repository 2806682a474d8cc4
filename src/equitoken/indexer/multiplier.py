"""The UI multiplier history of a token, rebuilt from its events as the contract keeps it.

Glossary (as in ``contracts/token/ui_multiplier.vy``): a multiplier has 18 decimals, ``MULTIPLIER_ONE`` = 1.0;
``ui = raw * m // MULTIPLIER_ONE``. The history starts at 1.0; a change scheduled while another is pending
replaces it, a change effective in the same second as the last one replaces it, and a cancel drops
the pending one. The multiplier in force at time t is the last entry effective at or before t.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from equitoken.model.multiplier import MULTIPLIER_ONE

"""1.0 with the multiplier's 18 decimals."""


@dataclass(frozen=True)
class MultiplierChange:
    """A scheduled multiplier (``kind`` ``set``) or the cancel of a pending one (``cancel``)."""

    kind: str
    multiplier: int
    set_at: int
    effective_at: int
    block_number: int


@dataclass(frozen=True)
class MultiplierEntry:
    """A multiplier of a token's history and the time (Unix seconds) it takes effect."""

    multiplier: int
    effective_at: int
    block_number: int | None


def fold_history(changes: Iterable[MultiplierChange]) -> list[MultiplierEntry]:
    """Return the history the contract holds after ``changes`` (in chain order), starting at 1.0."""
    history = [MultiplierEntry(MULTIPLIER_ONE, 0, None)]
    for change in changes:
        if change.kind == "cancel":
            if len(history) > 1:  # the contract only cancels a pending change, always the last
                history.pop()
            continue
        if len(history) > 1 and history[-1].effective_at > change.set_at:
            history.pop()  # the pending change never took effect
        if len(history) > 1 and history[-1].effective_at == change.effective_at:
            history.pop()
        history.append(MultiplierEntry(change.multiplier, change.effective_at, change.block_number))
    return history


def multiplier_at(history: Iterable[MultiplierEntry], at: int) -> int:
    """Return the multiplier in force at ``at`` (Unix seconds): the last entry effective by then."""
    current = MULTIPLIER_ONE
    for entry in history:
        if entry.effective_at > at:
            break
        current = entry.multiplier
    return current
