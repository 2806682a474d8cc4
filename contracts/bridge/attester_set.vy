# pragma version ~=0.4.3
"""
@title The attesters of the bridge and the quorum they must reach
@custom:contract-name attester_set
@license GNU Affero General Public License v3.0 or later
@notice Who may attest bridge messages, and how many of them a message
        needs. A deployable `initializes:` this module next to
        snekmate's `access_control` and `exports:`:
        - `attesters`, `threshold`, `is_attester` (`external` `view`
          functions),
        - `set_attesters` (`external` function, `DEFAULT_ADMIN_ROLE`).
        `_check_quorum` verifies EIP-712 signatures with snekmate's
        `ecdsa` module.
@custom:security Signers must be strictly ascending, so each attester
                 counts once; replay is stopped by the message id at the
                 caller, never by the signature bytes (ECDSA signatures
                 are malleable, see snekmate's `ecdsa`).
"""

# Glossary
#   n   the number of attesters, `len(attesters())`.
#   k   the threshold, the fewest distinct attesters a message needs.
#
# Invariant, after the constructor and every admin call:
#   1 <= k <= n <= MAX_ATTESTERS, no attester is the zero address and
#   none appears twice.


from snekmate.auth import access_control
uses: access_control

from snekmate.utils import ecdsa


# @dev The most attesters the bridge can have.
MAX_ATTESTERS: constant(uint256) = 16


# @dev Returns the fewest distinct attesters a message needs.
threshold: public(uint256)


# @dev The attesters, in the order the admin gave them.
_members: DynArray[address, MAX_ATTESTERS]


# @dev Whether an address is an attester.
_is_member: HashMap[address, bool]


event AttestersSet:
    attesters: DynArray[address, MAX_ATTESTERS]
    threshold: uint256


@deploy
def __init__(attesters_: DynArray[address, MAX_ATTESTERS], threshold_: uint256):
    """
    @dev Registers the first attesters and their threshold.
    @param attesters_ The attesters, distinct and non-zero.
    @param threshold_ The threshold, 1 <= k <= len(attesters_).
    """
    self._set(attesters_, threshold_)


@external
@view
def attesters() -> DynArray[address, MAX_ATTESTERS]:
    """
    @dev Returns every attester.
    @return DynArray The attesters' addresses.
    """
    return self._members


@external
@view
def is_attester(account: address) -> bool:
    """
    @dev Returns whether `account` is an attester.
    @param account The address to check.
    @return bool True if its signatures count.
    """
    return self._is_member[account]


@external
def set_attesters(attesters_: DynArray[address, MAX_ATTESTERS], threshold_: uint256):
    """
    @dev Replaces every attester and the threshold at once. Only
         `DEFAULT_ADMIN_ROLE`.
    @param attesters_ The attesters, distinct and non-zero.
    @param threshold_ The threshold, 1 <= k <= len(attesters_).
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set(attesters_, threshold_)


@internal
@view
def _check_quorum(digest: bytes32, signatures: DynArray[Bytes[65], MAX_ATTESTERS]):
    """
    @dev Reverts unless at least `threshold` distinct attesters signed
         `digest`, their signatures sorted by signer address ascending.
    @param digest The EIP-712 digest of the message.
    @param signatures The 65-byte signatures r ‖ s ‖ v.
    """
    assert len(signatures) >= self.threshold, "bridge: below quorum"
    previous: uint256 = 0
    for signature: Bytes[65] in signatures:
        signer: address = ecdsa._recover_sig(digest, signature)
        assert self._is_member[signer], "bridge: not an attester"
        current: uint256 = convert(signer, uint256)
        assert current > previous, "bridge: signers not ascending"
        previous = current


@internal
def _set(attesters_: DynArray[address, MAX_ATTESTERS], threshold_: uint256):
    for member: address in self._members:
        self._is_member[member] = False
    for member: address in attesters_:
        assert member != empty(address), "bridge: attester is the zero address"
        assert not self._is_member[member], "bridge: duplicate attester"
        self._is_member[member] = True
    assert threshold_ >= 1 and threshold_ <= len(attesters_), "bridge: threshold out of range"
    self._members = attesters_
    self.threshold = threshold_
    log AttestersSet(attesters=attesters_, threshold=threshold_)
