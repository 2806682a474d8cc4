# pragma version ~=0.4.3
"""
@title ERC-20 that answers a failed transfer with false, for tests
@custom:contract-name FalseReturningToken
@license GNU Affero General Public License v3.0 or later
@notice Some tokens report a failed transfer by returning false instead
        of reverting; a venue must check the answer. This one does so
        when the balance or the allowance is short, or whenever a test
        has switched failing on:
        - `transfer`, `transferFrom`, `approve`, `balanceOf`,
          `allowance`, `totalSupply`, `decimals`;
        - `mint`, `set_failing` (anyone: a test double, not for a chain).
"""


decimals: public(constant(uint8)) = 6

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)

# @dev Whether every transfer returns false.
failing: public(bool)


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


@external
def mint(owner: address, amount: uint256):
    """
    @dev Creates `amount` for `owner`.
    @param owner Who receives it.
    @param amount Raw units.
    """
    self.balanceOf[owner] += amount
    self.totalSupply += amount
    log Transfer(sender=empty(address), receiver=owner, value=amount)


@external
def set_failing(failing_: bool):
    """
    @dev Makes every transfer return false (or not).
    @param failing_ True to fail.
    """
    self.failing = failing_


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @dev Lets `spender` move `amount` of the caller's tokens.
    @param spender Who may spend.
    @param amount Raw units.
    @return bool Always true.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @dev Moves `amount` from the caller to `receiver`.
    @param receiver Who receives it.
    @param amount Raw units.
    @return bool False, moving nothing, if failing or the balance is short.
    """
    return self._move(msg.sender, receiver, amount)


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @dev Moves `amount` from `owner` to `receiver` within the caller's
         allowance.
    @param owner Whose tokens move.
    @param receiver Who receives them.
    @param amount Raw units.
    @return bool False, moving nothing, if failing or the balance or the
            allowance is short.
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed < amount:
        return False
    if not self._move(owner, receiver, amount):
        return False
    self.allowance[owner][msg.sender] = allowed - amount
    return True


@internal
def _move(owner: address, receiver: address, amount: uint256) -> bool:
    if self.failing or self.balanceOf[owner] < amount:
        return False
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)
    return True
