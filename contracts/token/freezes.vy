# pragma version ~=0.4.3
"""
@title Address and partial freezes
@custom:contract-name freezes
@license GNU Affero General Public License v3.0 or later
@notice A compliance agent can freeze an address outright (it can
        neither send nor receive) or freeze part of its balance (that
        part cannot be sent):
        - `is_frozen` (`external` `view` function),
        - `frozen_tokens` (`external` `view` function),
        - `set_address_frozen` (`external` function),
        - `freeze_partial_tokens` (`external` function),
        - `unfreeze_partial_tokens` (`external` function).

        Each account's freeze state is one storage word, so the transfer
        path pays one read per side:
            bit 255      the address is frozen,
            bits 0..254  the amount frozen, in raw units.
        Invariant: the amount frozen never exceeds the balance, except
        transiently inside a forced transfer that releases the excess.
"""


from snekmate.auth import access_control
uses: access_control

from snekmate.tokens import erc20
uses: erc20


# @dev The role that freezes, seizes and recovers.
COMPLIANCE_AGENT_ROLE: public(constant(bytes32)) = keccak256("COMPLIANCE_AGENT_ROLE")


_FROZEN_FLAG: constant(uint256) = 1 << 255
_AMOUNT_MASK: constant(uint256) = _FROZEN_FLAG - 1


_state: HashMap[address, uint256]


event AddressFrozen:
    account: indexed(address)
    frozen: bool
    agent: indexed(address)


event TokensFrozen:
    account: indexed(address)
    amount: uint256


event TokensUnfrozen:
    account: indexed(address)
    amount: uint256


@external
@view
def is_frozen(account: address) -> bool:
    """
    @dev Returns whether `account` is frozen outright.
    @param account The 20-byte address.
    @return bool True if it can neither send nor receive.
    """
    return self._state[account] & _FROZEN_FLAG != 0


@external
@view
def frozen_tokens(account: address) -> uint256:
    """
    @dev Returns the part of `account`'s balance that cannot be sent.
    @param account The 20-byte address.
    @return uint256 The frozen raw amount.
    """
    return self._state[account] & _AMOUNT_MASK


@external
def set_address_frozen(account: address, frozen: bool):
    """
    @dev Freezes or unfreezes `account` outright. Only the compliance agent.
    @param account The 20-byte address; not the zero address.
    @param frozen True to freeze.
    """
    access_control._check_role(COMPLIANCE_AGENT_ROLE, msg.sender)
    assert account != empty(address), "freezes: account is the zero address"
    state: uint256 = self._state[account]
    if frozen:
        self._state[account] = state | _FROZEN_FLAG
    else:
        self._state[account] = state & _AMOUNT_MASK
    log AddressFrozen(account=account, frozen=frozen, agent=msg.sender)


@external
def freeze_partial_tokens(account: address, amount: uint256):
    """
    @dev Freezes `amount` more of `account`'s balance. Only the compliance agent.
    @param account The 20-byte address.
    @param amount The raw amount; the total frozen may not exceed the balance.
    """
    access_control._check_role(COMPLIANCE_AGENT_ROLE, msg.sender)
    assert amount > 0, "freezes: amount is zero"
    state: uint256 = self._state[account]
    frozen_after: uint256 = (state & _AMOUNT_MASK) + amount
    assert frozen_after <= erc20.balanceOf[account], "freezes: amount exceeds the unfrozen balance"
    self._state[account] = (state & _FROZEN_FLAG) | frozen_after
    log TokensFrozen(account=account, amount=amount)


@external
def unfreeze_partial_tokens(account: address, amount: uint256):
    """
    @dev Releases `amount` of `account`'s frozen balance. Only the compliance agent.
    @param account The 20-byte address.
    @param amount The raw amount; at most the amount frozen.
    """
    access_control._check_role(COMPLIANCE_AGENT_ROLE, msg.sender)
    assert amount > 0, "freezes: amount is zero"
    state: uint256 = self._state[account]
    assert amount <= state & _AMOUNT_MASK, "freezes: amount exceeds the frozen tokens"
    self._state[account] = state - amount
    log TokensUnfrozen(account=account, amount=amount)


@internal
@pure
def _is_frozen(state: uint256) -> bool:
    return state & _FROZEN_FLAG != 0


@internal
@pure
def _frozen_amount(state: uint256) -> uint256:
    return state & _AMOUNT_MASK


@internal
def _release(account: address, needed: uint256):
    """
    @dev Unfreezes as much of `account`'s frozen balance as a forced
         movement of `needed` requires.
    """
    state: uint256 = self._state[account]
    frozen: uint256 = state & _AMOUNT_MASK
    free: uint256 = erc20.balanceOf[account] - frozen
    if needed > free:
        released: uint256 = needed - free
        self._state[account] = state - released
        log TokensUnfrozen(account=account, amount=released)


@internal
def _move(lost: address, new: address):
    """
    @dev Carries `lost`'s freeze state over to `new` (wallet recovery).
    """
    lost_state: uint256 = self._state[lost]
    new_state: uint256 = self._state[new]
    flags: uint256 = (lost_state | new_state) & _FROZEN_FLAG
    self._state[new] = flags | ((lost_state & _AMOUNT_MASK) + (new_state & _AMOUNT_MASK))
    self._state[lost] = 0
