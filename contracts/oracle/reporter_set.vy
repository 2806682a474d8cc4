# pragma version ~=0.4.3
"""
@title The reporters of a feed and the quorum they must reach
@custom:contract-name reporter_set
@license GNU Affero General Public License v3.0 or later
@notice Who may sign observations for a feed, and how many of them a
        round needs. A deployable `initializes:` this module next to
        snekmate's `access_control` and `exports:`:
        - `reporters`, `is_reporter`, `quorum` (`external` `view`
          functions),
        - `add_reporter`, `remove_reporter`, `set_quorum` (`external`
          functions, `DEFAULT_ADMIN_ROLE`).
@custom:security The quorum is always a strict majority of the
                 reporters, so two disjoint groups can never both
                 reach it, and a minority of lying or lost reporters
                 can neither publish a round alone nor, together with
                 honest ones, move the median out of the honest range.
"""

# Glossary
#   n   the number of reporters, `len(reporters())`.
#   k   the quorum, the fewest distinct reporters a round needs.
#
# Invariant, after the constructor and every admin call:
#   1 <= k <= n <= MAX_REPORTERS  and  2k > n
# (a change that would break it reverts; to grow n past 2k - 1 raise k
# first, to shrink n below k lower k first).
#
# Storage: the list for the view, and each reporter's 1-based position
# in it, so that checking a signer is one SLOAD (0 = not a reporter).


from snekmate.auth import access_control
uses: access_control


# @dev The most reporters a feed can have.
MAX_REPORTERS: constant(uint256) = 16


# @dev Returns the fewest distinct reporters a round needs.
quorum: public(uint256)


# @dev The reporters, in the order they were added (a removal moves the
# last one into the gap).
_members: DynArray[address, MAX_REPORTERS]


# @dev Each reporter's 1-based position in `_members`; 0 = none.
_position: HashMap[address, uint256]


event ReporterAdded:
    reporter: indexed(address)


event ReporterRemoved:
    reporter: indexed(address)


event QuorumUpdated:
    previous: uint256
    current: uint256


@deploy
def __init__(reporters_: DynArray[address, MAX_REPORTERS], quorum_: uint256):
    """
    @dev Registers the first reporters and their quorum.
    @param reporters_ The reporters, distinct and non-zero.
    @param quorum_ The quorum, a majority of `reporters_`.
    """
    for reporter: address in reporters_:
        self._add(reporter)
    self._set_quorum(quorum_)


@external
@view
def reporters() -> DynArray[address, MAX_REPORTERS]:
    """
    @dev Returns every reporter.
    @return DynArray The reporters' addresses.
    """
    return self._members


@external
@view
def is_reporter(account: address) -> bool:
    """
    @dev Returns whether `account` is a reporter.
    @param account The address to check.
    @return bool True if its signatures count.
    """
    return self._position[account] != 0


@external
def add_reporter(reporter: address):
    """
    @dev Registers `reporter`. Only `DEFAULT_ADMIN_ROLE`. Reverts if
         the quorum would no longer be a majority (raise it first).
    @param reporter The new reporter, non-zero and not yet registered.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._add(reporter)
    self._check_majority(self.quorum)


@external
def remove_reporter(reporter: address):
    """
    @dev Unregisters `reporter`; its signatures stop counting at once.
         Only `DEFAULT_ADMIN_ROLE`. Reverts if fewer reporters than the
         quorum would remain (lower it first).
    @param reporter The reporter to remove.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    position: uint256 = self._position[reporter]
    assert position != 0, "reporter_set: not a reporter"
    last: address = self._members.pop()
    if last != reporter:
        self._members[position - 1] = last
        self._position[last] = position
    self._position[reporter] = 0
    self._check_majority(self.quorum)
    log ReporterRemoved(reporter=reporter)


@external
def set_quorum(quorum_: uint256):
    """
    @dev Replaces the quorum. Only `DEFAULT_ADMIN_ROLE`.
    @param quorum_ The new quorum: at most the number of reporters and
           more than half of it.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_quorum(quorum_)


@internal
def _add(reporter: address):
    assert reporter != empty(address), "reporter_set: zero address"
    assert self._position[reporter] == 0, "reporter_set: already a reporter"
    assert len(self._members) < MAX_REPORTERS, "reporter_set: too many reporters"
    self._members.append(reporter)
    self._position[reporter] = len(self._members)
    log ReporterAdded(reporter=reporter)


@internal
def _set_quorum(quorum_: uint256):
    self._check_majority(quorum_)
    log QuorumUpdated(previous=self.quorum, current=quorum_)
    self.quorum = quorum_


@internal
@view
def _check_majority(quorum_: uint256):
    count: uint256 = len(self._members)
    assert quorum_ <= count, "reporter_set: quorum above reporter count"
    assert 2 * quorum_ > count, "reporter_set: quorum not a majority"
