"""Attestation mints: the quote signer's EIP-712 message, a deployed minter with its token, feed, USDC and
treasury, and helpers that sign quotes, fund users and read every balance a flow moves.

`sign_quote` signs with eth_account's `encode_typed_data`, independently of the contract's
`quote_digest`, so every accepted mint also proves the off-chain message and the contract's agree. The
world is deployed by `deploy_world` from the fixtures of ``tests/contracts/conftest.py``; each test module
wraps it in a module-scoped fixture (titanoboa's plugin anchors every test).
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boa
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from tests.support.contracts import ONE_SHARE, TokenFactory, attest, deployer
from tests.support.contracts.oracle import QUORUM, deploy_price_feed, reporter_key, transmit

from equitoken.oracle.observation import MarketStatus

USDC = 10**6
ORACLE_PRICE = 200 * 10**8  # the feed's answer, 8 decimals: 200 USD
QUOTE_PRICE = 200 * USDC  # the quote's price, USDC per whole token (6 decimals)
BUY, SELL = 0, 1
MAX_TTL = 120
MAX_DEVIATION_BPS = 100
MAX_AGE = 3_600
MIN_ANSWER, MAX_ANSWER = 1 * 10**8, 100_000 * 10**8
USER_LIMIT = 100_000 * USDC
USER_DECAY = 10 * USDC  # per second
TOKEN_LIMIT = 250_000 * USDC
TOKEN_DECAY = 25 * USDC
RESERVE_SLACK = 1_000_000 * ONE_SHARE  # reserves attested beyond the supply
OPEN_STATUS, CLOSED_STATUS, HALTED_STATUS = (
    int(MarketStatus.OPEN),
    int(MarketStatus.CLOSED),
    int(MarketStatus.HALTED),
)
DOMAIN_NAME = "Equitoken AttestationMinter"
DOMAIN_VERSION = "1"
QUOTE_TYPES = [
    {"name": "chain_id", "type": "uint256"},
    {"name": "attestation_id", "type": "bytes32"},
    {"name": "user", "type": "address"},
    {"name": "token", "type": "address"},
    {"name": "price", "type": "uint256"},
    {"name": "quantity", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "expiry", "type": "uint256"},
]


def signer_key(name: str = "quote signer") -> LocalAccount:
    """Return a deterministic account for `name`."""
    account: LocalAccount = Account.from_key(keccak(text=name))
    return account


@dataclass
class Quote:
    """One attestation quote, the fields in the contract's order."""

    chain_id: int
    attestation_id: bytes
    user: str
    token: str
    price: int
    quantity: int
    side: int
    expiry: int

    def as_tuple(self) -> tuple[int, bytes, str, str, int, int, int, int]:
        """Return the quote as the contract's `Quote` struct argument."""
        return (
            self.chain_id,
            self.attestation_id,
            self.user,
            self.token,
            self.price,
            self.quantity,
            self.side,
            self.expiry,
        )


def typed_quote(quote: Quote, minter: Any) -> SignableMessage:
    """Return `quote` as the EIP-712 message of `minter`'s domain."""
    message = {
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": boa.env.evm.patch.chain_id,
            "verifyingContract": str(minter.address),
        },
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Quote": QUOTE_TYPES,
        },
        "primaryType": "Quote",
        "message": {
            "chain_id": quote.chain_id,
            "attestation_id": quote.attestation_id,
            "user": quote.user,
            "token": quote.token,
            "price": quote.price,
            "quantity": quote.quantity,
            "side": quote.side,
            "expiry": quote.expiry,
        },
    }
    return encode_typed_data(full_message=message)


def quote_digest(quote: Quote, minter: Any) -> bytes:
    """Return the EIP-712 digest of `quote` that the signer signs."""
    typed = typed_quote(quote, minter)
    return bytes(keccak(b"\x19" + typed.version + typed.header + typed.body))


def sign_quote(quote: Quote, minter: Any, key: LocalAccount) -> bytes:
    """Sign `quote` for `minter`'s EIP-712 domain with `key`; return the 65-byte signature."""
    signature: bytes = key.sign_message(typed_quote(quote, minter)).signature
    return signature


@dataclass
class World:
    """A deployed minter and everything around it, actors by role."""

    minter: Any
    token: Any
    feed: Any
    usdc: Any
    reserve_feed: Any
    signer: LocalAccount
    treasury: str
    admin: str
    attester: str
    reporters: list[LocalAccount]
    issued: list[bytes] = field(default_factory=list)

    def quote(
        self, user: str, quantity: int, side: int = BUY, *, price: int = QUOTE_PRICE, **overrides: Any
    ) -> Quote:
        """Return a fresh quote (a new id, this chain, this token, expiring in a minute)."""
        fields: dict[str, Any] = {
            "chain_id": boa.env.evm.patch.chain_id,
            "attestation_id": keccak(text=f"attestation {len(self.issued)}"),
            "user": user,
            "token": str(self.token.address),
            "price": price,
            "quantity": quantity,
            "side": side,
            "expiry": boa.env.evm.patch.timestamp + 60,
        }
        fields.update(overrides)
        quote = Quote(**fields)
        self.issued.append(quote.attestation_id)
        return quote

    def sign(self, quote: Quote, key: LocalAccount | None = None) -> bytes:
        """Sign `quote` with the configured signer, or with `key`."""
        return sign_quote(quote, self.minter, key or self.signer)

    def mint(self, quote: Quote, signature: bytes | None = None, sender: str | None = None) -> None:
        """Call `mint_with_attestation` as `sender` (default: the quote's user)."""
        with boa.env.prank(sender or quote.user):
            self.minter.mint_with_attestation(quote.as_tuple(), signature or self.sign(quote))

    def redeem(self, quote: Quote, signature: bytes | None = None, sender: str | None = None) -> None:
        """Call `redeem_with_attestation` as `sender` (default: the quote's user)."""
        with boa.env.prank(sender or quote.user):
            self.minter.redeem_with_attestation(quote.as_tuple(), signature or self.sign(quote))

    def fund(self, user: str, dollars: int = 0, shares: int = 0) -> None:
        """Give `user` USDC and tokens, approving the minter for both."""
        if dollars:
            with boa.env.prank(self.admin):
                self.usdc.mint(user, dollars)
        if shares:
            attest(self.reserve_feed, self.attester, self.token.totalSupply() + shares + RESERVE_SLACK)
            with boa.env.prank(str(self.minter.address)):
                self.token.mint(user, shares)
        with boa.env.prank(user):
            self.usdc.approve(self.minter.address, 2**256 - 1)
            self.token.approve(self.minter.address, 2**256 - 1)

    def reserves_for(self, extra: int) -> None:
        """Attest reserves covering the supply plus `extra` raw units."""
        attest(self.reserve_feed, self.attester, self.token.totalSupply() + extra)

    def publish(self, status: int = OPEN_STATUS, price: int = ORACLE_PRICE, *, advance: int = 60) -> None:
        """Move time on and publish a new round."""
        boa.env.time_travel(seconds=advance)
        transmit(self.feed, self.reporters, price, status)

    def snapshot(self, *users: str) -> tuple[Any, ...]:
        """Return every balance, supply, limit usage and used id a flow could change."""
        accounts = [self.treasury, *users]
        return (
            tuple(self.usdc.balanceOf(a) for a in accounts),
            tuple(self.token.balanceOf(a) for a in accounts),
            self.token.totalSupply(),
            tuple(tuple(self.minter.user_usage(a)) for a in users),
            tuple(self.minter.token_usage()),
            frozenset(i for i in self.issued if self.minter.attestation_used(i)),
        )


@cache
def cached_deployer(relative: str) -> Any:
    """Return the deployer of `relative`, compiled once per session."""
    return deployer(relative)


def deploy_world(
    deploy_token: TokenFactory,
    reserve_feed: Any,
    admin: str,
    attester: str,
    treasury: str,
    profile: int,
) -> World:
    """Deploy a token of `profile`, its feed (price 200 USD, open), USDC and a minter with limits set."""
    token = deploy_token(profile)
    reporters = [reporter_key(i) for i in range(QUORUM)]
    feed = deploy_price_feed(cached_deployer("oracle/PriceFeed.vy"), admin, reporters, QUORUM, token.address)
    transmit(feed, reporters, ORACLE_PRICE, OPEN_STATUS)
    signer = signer_key()
    with boa.env.prank(admin):
        usdc = cached_deployer("settlement/TestUSDC.vy").deploy()
        minter = cached_deployer("issuance/AttestationMinter.vy").deploy(
            token.address,
            usdc.address,
            treasury,
            feed.address,
            signer.address,
            MAX_TTL,
            MAX_DEVIATION_BPS,
            MAX_AGE,
            MIN_ANSWER,
            MAX_ANSWER,
        )
        minter.set_user_rate_limit(USER_LIMIT, USER_DECAY)
        minter.set_token_rate_limit(TOKEN_LIMIT, TOKEN_DECAY)
        token.grantRole(token.MINTER_ROLE(), minter.address)
        token.grantRole(token.BURNER_ROLE(), minter.address)
        usdc.mint(treasury, 1_000_000 * USDC)
    with boa.env.prank(treasury):
        usdc.approve(minter.address, 2**256 - 1)
    attest(reserve_feed, attester, RESERVE_SLACK)
    return World(minter, token, feed, usdc, reserve_feed, signer, treasury, admin, attester, reporters)
