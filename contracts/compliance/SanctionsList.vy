# pragma version ~=0.4.3
"""
@title Sanctions list with the Chainalysis oracle interface
@custom:contract-name SanctionsList
@license GNU Affero General Public License v3.0 or later
@notice A list of sanctioned addresses that answers `isSanctioned`
        exactly as the Chainalysis sanctions oracle does, for chains
        where that oracle is not deployed (local nodes, test networks).
        On networks that have the Chainalysis oracle, tokens point at
        it instead. The owner (two-step transfer) maintains the list:
        - `isSanctioned` (`external` `view` function),
        - `addToSanctionsList` (`external` function),
        - `removeFromSanctionsList` (`external` function),
        - `owner`, `pending_owner`, `transfer_ownership`,
          `accept_ownership` (`external` functions, from snekmate).
"""


from ..interfaces import ISanctionsList
implements: ISanctionsList

from snekmate.auth import ownable
from snekmate.auth import ownable_2step
initializes: ownable
initializes: ownable_2step[ownable := ownable]
exports: (
    ownable_2step.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
)


# @dev The longest list one call may change.
_MAX_BATCH: constant(uint256) = 256


_sanctioned: HashMap[address, bool]


event SanctionedAddressesAdded:
    addrs: DynArray[address, _MAX_BATCH]


event SanctionedAddressesRemoved:
    addrs: DynArray[address, _MAX_BATCH]


@deploy
def __init__():
    """
    @dev The deployer becomes the owner.
    """
    ownable.__init__()
    ownable_2step.__init__()


@external
@view
def isSanctioned(addr: address) -> bool:
    """
    @dev Returns whether `addr` is on the list.
    @param addr The 20-byte address to check.
    @return bool True if `addr` is sanctioned.
    """
    return self._sanctioned[addr]


@external
def addToSanctionsList(addrs: DynArray[address, _MAX_BATCH]):
    """
    @dev Adds `addrs` to the list. Only the owner.
    @param addrs The addresses to add.
    """
    ownable._check_owner()
    for addr: address in addrs:
        self._sanctioned[addr] = True
    log SanctionedAddressesAdded(addrs=addrs)


@external
def removeFromSanctionsList(addrs: DynArray[address, _MAX_BATCH]):
    """
    @dev Removes `addrs` from the list. Only the owner.
    @param addrs The addresses to remove.
    """
    ownable._check_owner()
    for addr: address in addrs:
        self._sanctioned[addr] = False
    log SanctionedAddressesRemoved(addrs=addrs)
