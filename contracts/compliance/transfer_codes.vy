# pragma version ~=0.4.3
"""
@title Transfer restriction codes
@custom:contract-name transfer_codes
@license GNU Affero General Public License v3.0 or later
@notice The numeric codes that `StockToken.can_transfer` returns and
        that `IdentityRegistry` uses, with their reasons. `OK` (0)
        is the only code under which tokens move. The transfer path
        and the view pre-check share these codes, so a pre-check
        that returns `OK` predicts a transfer that succeeds.
"""


OK: constant(uint8) = 0
PAUSED: constant(uint8) = 1
SENDER_SANCTIONED: constant(uint8) = 2
RECEIVER_SANCTIONED: constant(uint8) = 3
SPENDER_SANCTIONED: constant(uint8) = 4
SENDER_FROZEN: constant(uint8) = 5
RECEIVER_FROZEN: constant(uint8) = 6
AMOUNT_FROZEN: constant(uint8) = 7
INSUFFICIENT_BALANCE: constant(uint8) = 8
NOT_OPERATOR: constant(uint8) = 9
RECEIVER_NOT_VERIFIED: constant(uint8) = 10
RECEIVER_KYC_EXPIRED: constant(uint8) = 11
# 12 is unassigned: an unverified sender may still send to a verified receiver.
COUNTRY_NOT_ALLOWED: constant(uint8) = 13
NOT_ACCREDITED: constant(uint8) = 14
MAX_BALANCE_EXCEEDED: constant(uint8) = 15
MAX_HOLDERS_REACHED: constant(uint8) = 16
LOCKED_UP: constant(uint8) = 17
INVALID_RECEIVER: constant(uint8) = 18
TOKEN_NOT_BOUND: constant(uint8) = 19


@internal
@pure
def _reason(code: uint8) -> String[48]:
    """
    @dev Returns the human-readable reason of a restriction code.
    @param code The 1-byte restriction code.
    @return String The reason, "unknown restriction" for codes not listed.
    """
    if code == OK:
        return "transfer allowed"
    if code == PAUSED:
        return "token is paused"
    if code == SENDER_SANCTIONED:
        return "sender is sanctioned"
    if code == RECEIVER_SANCTIONED:
        return "receiver is sanctioned"
    if code == SPENDER_SANCTIONED:
        return "spender is sanctioned"
    if code == SENDER_FROZEN:
        return "sender is frozen"
    if code == RECEIVER_FROZEN:
        return "receiver is frozen"
    if code == AMOUNT_FROZEN:
        return "amount exceeds the unfrozen balance"
    if code == INSUFFICIENT_BALANCE:
        return "amount exceeds the balance"
    if code == NOT_OPERATOR:
        return "only an operator may move restricted tokens"
    if code == RECEIVER_NOT_VERIFIED:
        return "receiver is not a verified investor"
    if code == RECEIVER_KYC_EXPIRED:
        return "receiver's KYC has expired"
    if code == COUNTRY_NOT_ALLOWED:
        return "receiver's country is not allowed"
    if code == NOT_ACCREDITED:
        return "receiver is not accredited"
    if code == MAX_BALANCE_EXCEEDED:
        return "receiver would exceed the max balance"
    if code == MAX_HOLDERS_REACHED:
        return "token has reached its max holders"
    if code == LOCKED_UP:
        return "token is in its lock-up period"
    if code == INVALID_RECEIVER:
        return "receiver is the zero address"
    if code == TOKEN_NOT_BOUND:
        return "token is not bound to the registry"
    return "unknown restriction"
