"""EIP-2612 permits: the typed data a holder's wallet signs to approve a spender without a transaction."""

from typing import Any

from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount

_PERMIT_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def permit_message(
    *,
    token_name: str,
    chain_id: int,
    token: str,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
) -> SignableMessage:
    """Return the EIP-712 permit message for a token whose domain version is "1" (snekmate's)."""
    message: dict[str, Any] = {
        "types": _PERMIT_TYPES,
        "primaryType": "Permit",
        "domain": {"name": token_name, "version": "1", "chainId": chain_id, "verifyingContract": token},
        "message": {"owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline},
    }
    return encode_typed_data(full_message=message)


def sign_permit(owner: LocalAccount, message: SignableMessage) -> tuple[int, bytes, bytes]:
    """Sign a permit message; return the (v, r, s) that `permit` takes."""
    signed = owner.sign_message(message)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
