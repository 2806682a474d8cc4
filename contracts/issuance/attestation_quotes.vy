# pragma version ~=0.4.3
"""
@title Signed attestation quotes, each usable once
@custom:contract-name attestation_quotes
@license GNU Affero General Public License v3.0 or later
@notice The quote an issuer's signer gives a verified user, in the style
        of Ondo Global Markets' attestations: an EIP-712 `Quote` (chain
        id, attestation id, user, token, price, quantity, side, expiry)
        that lets the user mint (side BUY) or redeem (side SELL) at once.
        A deployable `initializes:` this module next to snekmate's
        `access_control` and `eip712_domain_separator` and `exports:`:
        - `signer`, `max_ttl`, `attestation_used`, `SIDE_BUY`,
          `SIDE_SELL`, `QUOTE_TYPEHASH` (`external` `view` getters),
        - `quote_digest` (`external` `view` function, the EIP-712
          digest the signer signs),
        - `set_signer`, `set_max_ttl` (`external` functions,
          `DEFAULT_ADMIN_ROLE`).
        Glossary of a quote's fields:
        - chain_id        the chain the quote may be used on;
        - attestation_id  a 32-byte id, used at most once;
        - user            the only address that may use the quote;
        - token           the stock token quoted;
        - price           USDC per whole token, in USDC's 6 decimals
                          (200 USD is 200_000_000);
        - quantity        raw token units (8 decimals: 1 share is
                          100_000_000);
        - side            0 buy (mint), 1 sell (redeem);
        - expiry          unix seconds; the quote is good while
                          block.timestamp <= expiry.
        Issuance hours: the contract trusts the signer to sign only while
        issuance is open under the exchange calendar (holidays and half
        days included), which the signer applies off-chain; on-chain it
        bounds how long a quote lives, expiry - block.timestamp <=
        `max_ttl`, so a quote signed in hours cannot be used long after.
@custom:security The attestation id, not the signature, is marked used, so
                 snekmate's accepting both 65- and 64-byte (EIP-2098)
                 forms of one signature does not allow a replay.
"""


from snekmate.auth import access_control
uses: access_control

from snekmate.utils import ecdsa

from snekmate.utils import eip712_domain_separator
uses: eip712_domain_separator


# @dev A quote, as the signer signs it (EIP-712 type `Quote`).
struct Quote:
    chain_id: uint256
    attestation_id: bytes32
    user: address
    token: address
    price: uint256
    quantity: uint256
    side: uint8
    expiry: uint256


SIDE_BUY: public(constant(uint8)) = 0
SIDE_SELL: public(constant(uint8)) = 1


QUOTE_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Quote(uint256 chain_id,bytes32 attestation_id,address user,address token,uint256 price,uint256 quantity,uint8 side,uint256 expiry)"
)


# @dev Returns the address whose signatures make quotes valid.
signer: public(address)


# @dev Returns the longest a quote may still live when it is used, seconds.
max_ttl: public(uint256)


# @dev Returns whether an attestation id was used.
attestation_used: public(HashMap[bytes32, bool])


event SignerSet:
    signer: indexed(address)
    admin: indexed(address)


event MaxTtlSet:
    max_ttl: uint256
    admin: indexed(address)


@deploy
def __init__(signer_: address, max_ttl_: uint256):
    """
    @dev Sets the first signer and quote lifetime.
    @param signer_ The quote signer; not the zero address.
    @param max_ttl_ The longest a quote may live, seconds; more than 0.
    """
    self._set_signer(signer_)
    self._set_max_ttl(max_ttl_)


@external
@view
def quote_digest(quote: Quote) -> bytes32:
    """
    @dev Returns the EIP-712 digest of `quote` under this contract's domain.
    @param quote The quote.
    @return bytes32 The digest the signer signs.
    """
    return self._digest(quote)


@external
def set_signer(signer_: address):
    """
    @dev Replaces the quote signer; quotes the old one signed stop being
         valid. Only `DEFAULT_ADMIN_ROLE`.
    @param signer_ The new signer; not the zero address.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_signer(signer_)


@external
def set_max_ttl(max_ttl_: uint256):
    """
    @dev Replaces the longest lifetime a quote may have left when used.
         Only `DEFAULT_ADMIN_ROLE`.
    @param max_ttl_ Seconds; more than 0.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_max_ttl(max_ttl_)


@internal
def _use(quote: Quote, signature: Bytes[65], side: uint8):
    """
    @dev Checks `quote` for use by `msg.sender` on the `side` asked, then
         marks its attestation id used. Reverts, changing nothing, unless:
         the side matches, the caller is the quote's user, the chain id is
         this chain's, block.timestamp <= expiry <= block.timestamp +
         max_ttl, the id is unused and the signer signed the quote.
    @param quote The quote.
    @param signature The signer's 65-byte signature of `quote_digest`.
    @param side `SIDE_BUY` or `SIDE_SELL`, what the caller asks for.
    """
    assert quote.side == side, "attestation: wrong side"
    assert quote.user == msg.sender, "attestation: caller is not the user"
    assert quote.chain_id == chain.id, "attestation: wrong chain"
    assert block.timestamp <= quote.expiry, "attestation: quote expired"
    assert quote.expiry - block.timestamp <= self.max_ttl, "attestation: quote lives too long"
    assert not self.attestation_used[quote.attestation_id], "attestation: id already used"
    recovered: address = ecdsa._recover_sig(self._digest(quote), signature)
    assert recovered != empty(address) and recovered == self.signer, "attestation: invalid signature"
    self.attestation_used[quote.attestation_id] = True


@internal
@view
def _digest(quote: Quote) -> bytes32:
    struct_hash: bytes32 = keccak256(
        abi_encode(
            QUOTE_TYPEHASH,
            quote.chain_id,
            quote.attestation_id,
            quote.user,
            quote.token,
            quote.price,
            quote.quantity,
            quote.side,
            quote.expiry,
        )
    )
    return eip712_domain_separator._hash_typed_data_v4(struct_hash)


@internal
def _set_signer(signer_: address):
    assert signer_ != empty(address), "attestation: signer is the zero address"
    self.signer = signer_
    log SignerSet(signer=signer_, admin=msg.sender)


@internal
def _set_max_ttl(max_ttl_: uint256):
    assert max_ttl_ != 0, "attestation: zero max ttl"
    self.max_ttl = max_ttl_
    log MaxTtlSet(max_ttl=max_ttl_, admin=msg.sender)
