"""Corporate actions: splits, reverse splits, cash dividends (reinvested or paid out) and management fees.

`CorporateActions` records actions from the packaged real history (or by hand) and advances them
exactly once against custody, the token's UI multiplier and the reserve feed; see
`docs/corporate-actions.md`.
"""

from equitoken.issuer.corporate_actions.dividends import dividend_account
from equitoken.issuer.corporate_actions.history import SkippedAction
from equitoken.issuer.corporate_actions.holders import ChainHolders, HolderSource
from equitoken.issuer.corporate_actions.model import (
    ActionEvent,
    ActionKind,
    ActionState,
    CorporateAction,
    CorporateActionsConfig,
    DividendPayment,
    DividendPolicy,
    InstrumentPolicy,
    PaymentState,
)
from equitoken.issuer.corporate_actions.service import (
    CorporateActions,
    DuplicateActionError,
    HistoryLoad,
    UnknownActionError,
    action_id,
)
from equitoken.issuer.corporate_actions.withholding import (
    DEFAULT_WITHHOLDING_BPS,
    TREATY_JURISDICTIONS,
    TREATY_WITHHOLDING_BPS,
    withholding_bps,
)

__all__ = [
    "DEFAULT_WITHHOLDING_BPS",
    "TREATY_JURISDICTIONS",
    "TREATY_WITHHOLDING_BPS",
    "ActionEvent",
    "ActionKind",
    "ActionState",
    "ChainHolders",
    "CorporateAction",
    "CorporateActions",
    "CorporateActionsConfig",
    "DividendPayment",
    "DividendPolicy",
    "DuplicateActionError",
    "HistoryLoad",
    "HolderSource",
    "InstrumentPolicy",
    "PaymentState",
    "SkippedAction",
    "UnknownActionError",
    "action_id",
    "dividend_account",
    "withholding_bps",
]
