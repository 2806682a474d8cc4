"""Account addresses: the EVM's 20-byte addresses, always held in their EIP-55 checksum form.

One spelling per address, so that a wallet bound in the registry, a holder in the indexer and a
leaf of a liabilities proof compare equal as strings.
"""

from typing import NewType

from eth_utils.address import is_address, to_checksum_address

EvmAddress = NewType("EvmAddress", str)
"""A 0x-prefixed 20-byte address in EIP-55 checksum form."""


def checksum(address: str) -> EvmAddress:
    """Return `address` in EIP-55 checksum form; raise ValueError naming it if it is not an address."""
    if not isinstance(address, str) or not is_address(address):
        raise ValueError(f"not an EVM address: {address!r}")
    return EvmAddress(str(to_checksum_address(address)))
