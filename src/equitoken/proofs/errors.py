"""Errors of the proofs layer: each has a stable code and a message naming what is wrong."""

from equitoken.model.errors import EquitokenError


class ProofsError(EquitokenError):
    """Input the proofs layer refuses; nothing was built or changed."""

    code = "proofs_error"


class InvalidHolderBalanceError(ProofsError, ValueError):
    """A holder balance that cannot go into a liabilities tree (bad chain id, address or amount)."""

    code = "invalid_holder_balance"


class UnknownHolderError(ProofsError, LookupError):
    """A proof was asked for a holder that has no (non-zero) balance in the tree."""

    code = "unknown_holder"


class InvalidProofError(ProofsError, ValueError):
    """An inclusion proof that is malformed or does not lead to the published root."""

    code = "proof_invalid"


class InvalidReportError(ProofsError, ValueError):
    """A reserves report that is malformed, inconsistent or not validly signed."""

    code = "report_invalid"
