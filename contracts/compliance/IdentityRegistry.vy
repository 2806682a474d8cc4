# pragma version ~=0.4.3
"""
@title Identity registry shared by many stock tokens
@custom:contract-name IdentityRegistry
@license GNU Affero General Public License v3.0 or later
@notice Maps wallets to verified investors (investor id, ISO 3166
        numeric country, KYC expiry, accredited and frozen flags; up to
        8 wallets per investor) and holds each token's transfer rules
        (blocked and allowed countries, accreditation, max balance per
        investor across its wallets, max number of holders, lock-up).
        `permissioned` and `restricted` stock tokens call `on_transfer`
        on every movement; the view `check_transfer` runs the same rules.
        - registrar (REGISTRAR_ROLE): `set_investor`, `set_investor_frozen`,
          `add_wallet`, `remove_wallet`, `bind_token`, `unbind_token`,
          `set_token_rules`, `set_country_rules`, `set_holder_count`;
        - tokens: `on_transfer` (counts any caller's own holders; enforces
          rules only for bound tokens);
        - views: `investor_of`, `identity`, `investor`, `wallets_of`,
          `is_verified`, `token_rules`, `country_rule`, `holder_count`,
          `check_transfer`.

        A holder is an investor (not a wallet) with a positive balance
        summed over its wallets; a wallet with no investor counts alone.
        Invariant: `holder_count[token]` equals the number of the token's
        holders, provided wallets holding it are not moved between investors
        (the registrar re-syncs with `set_holder_count` if so).

        Storage words are packed so a transfer check reads one word per
        wallet, one for the token's rules and one for the country rule:
        wallet word   bits 0..63 investor id, 64..79 country,
                      80..143 KYC expiry, 144 accredited, 145 frozen,
                      146..153 number of the investor's wallets;
        rules word    bit 0 bound, 1 allow-list mode, 2 accredited only,
                      8..71 lock-up until, 72..103 max holders (0: none),
                      128..255 max balance per investor (0: none).
"""


from ethereum.ercs import IERC20

from snekmate.auth import access_control
initializes: access_control
exports: access_control.__interface__

from . import transfer_codes
from ..interfaces import IIdentityRegistry
implements: IIdentityRegistry


REGISTRAR_ROLE: public(constant(bytes32)) = keccak256("REGISTRAR_ROLE")

MAX_WALLETS: public(constant(uint256)) = 8
COUNTRY_NONE: public(constant(uint8)) = 0
COUNTRY_ALLOWED: public(constant(uint8)) = 1
COUNTRY_BLOCKED: public(constant(uint8)) = 2

_MAX_COUNTRY: constant(uint16) = 999
_MAX_BATCH: constant(uint256) = 256

_MASK_64: constant(uint256) = (1 << 64) - 1
_MASK_16: constant(uint256) = (1 << 16) - 1
_MASK_32: constant(uint256) = (1 << 32) - 1
_ACCREDITED: constant(uint256) = 1 << 144
_FROZEN: constant(uint256) = 1 << 145

_BOUND: constant(uint256) = 1
_ALLOW_LIST: constant(uint256) = 2
_ACCREDITED_ONLY: constant(uint256) = 4


struct Investor:
    country: uint16
    kyc_expiry: uint64
    accredited: bool
    frozen: bool
    wallets: DynArray[address, MAX_WALLETS]


struct Identity:
    investor_id: uint64
    country: uint16
    kyc_expiry: uint64
    accredited: bool
    frozen: bool


struct TokenRules:
    bound: bool
    allow_list: bool
    accredited_only: bool
    lockup_until: uint64
    max_holders: uint32
    max_balance: uint128


_wallets: HashMap[address, uint256]
_investors: HashMap[uint64, Investor]
_rules: HashMap[address, uint256]
_country_rules: HashMap[address, HashMap[uint16, uint8]]

# @dev The number of investors holding each bound token.
holder_count: public(HashMap[address, uint256])


event InvestorSet:
    investor_id: indexed(uint64)
    country: uint16
    kyc_expiry: uint64
    accredited: bool


event InvestorFrozen:
    investor_id: indexed(uint64)
    frozen: bool


event WalletAdded:
    investor_id: indexed(uint64)
    wallet: indexed(address)


event WalletRemoved:
    investor_id: indexed(uint64)
    wallet: indexed(address)


event TokenBound:
    token: indexed(address)
    bound: bool


event TokenRulesSet:
    token: indexed(address)
    allow_list: bool
    accredited_only: bool
    lockup_until: uint64
    max_holders: uint32
    max_balance: uint128


event CountryRulesSet:
    token: indexed(address)
    countries: DynArray[uint16, _MAX_BATCH]
    rule: uint8


event HolderCountSet:
    token: indexed(address)
    holder_count: uint256


@deploy
def __init__():
    """
    @dev The deployer becomes the admin; it grants REGISTRAR_ROLE.
    """
    access_control.__init__()


@external
def set_investor(investor_id: uint64, country: uint16, kyc_expiry: uint64, accredited: bool):
    """
    @dev Creates or updates an investor's verified identity. Only the registrar.
    @param investor_id The investor's id; not zero.
    @param country The ISO 3166-1 numeric country code, 1 to 999.
    @param kyc_expiry The Unix time the KYC check expires.
    @param accredited Whether the investor is accredited / professional.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    assert investor_id != 0, "registry: investor id is zero"
    assert country != 0 and country <= _MAX_COUNTRY, "registry: country is not ISO 3166 numeric"
    investor: Investor = self._investors[investor_id]
    investor.country = country
    investor.kyc_expiry = kyc_expiry
    investor.accredited = accredited
    self._investors[investor_id] = investor
    self._write_wallets(investor_id, investor)
    log InvestorSet(investor_id=investor_id, country=country, kyc_expiry=kyc_expiry, accredited=accredited)


@external
def set_investor_frozen(investor_id: uint64, frozen: bool):
    """
    @dev Freezes or unfreezes an investor on every token that uses the
         registry. Only the registrar.
    @param investor_id A registered investor's id.
    @param frozen True to freeze.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    investor: Investor = self._investors[investor_id]
    assert investor.country != 0, "registry: unknown investor"
    investor.frozen = frozen
    self._investors[investor_id] = investor
    self._write_wallets(investor_id, investor)
    log InvestorFrozen(investor_id=investor_id, frozen=frozen)


@external
def add_wallet(investor_id: uint64, wallet: address):
    """
    @dev Binds `wallet` to a registered investor. Only the registrar.
    @param investor_id A registered investor's id.
    @param wallet The 20-byte wallet; not bound to any investor yet.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    assert wallet != empty(address), "registry: wallet is the zero address"
    investor: Investor = self._investors[investor_id]
    assert investor.country != 0, "registry: unknown investor"
    assert self._wallets[wallet] == 0, "registry: wallet already registered"
    assert len(investor.wallets) < MAX_WALLETS, "registry: investor has the max number of wallets"
    investor.wallets.append(wallet)
    self._investors[investor_id] = investor
    self._write_wallets(investor_id, investor)
    log WalletAdded(investor_id=investor_id, wallet=wallet)


@external
def remove_wallet(wallet: address):
    """
    @dev Unbinds `wallet` from its investor. Only the registrar.
    @param wallet A registered wallet.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    investor_id: uint64 = convert(self._wallets[wallet] & _MASK_64, uint64)
    assert investor_id != 0, "registry: unknown wallet"
    investor: Investor = self._investors[investor_id]
    kept: DynArray[address, MAX_WALLETS] = []
    for w: address in investor.wallets:
        if w != wallet:
            kept.append(w)
    investor.wallets = kept
    self._investors[investor_id] = investor
    self._wallets[wallet] = 0
    self._write_wallets(investor_id, investor)
    log WalletRemoved(investor_id=investor_id, wallet=wallet)


@external
def bind_token(token: address):
    """
    @dev Lets `token` report movements and enforce its rules here. Only the registrar.
    @param token The stock token.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    assert token != empty(address), "registry: token is the zero address"
    self._rules[token] = self._rules[token] | _BOUND
    log TokenBound(token=token, bound=True)


@external
def unbind_token(token: address):
    """
    @dev Stops accepting movements of `token`: its enforced transfers
         fail until it is bound again. Only the registrar.
    @param token The stock token.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    self._rules[token] = self._rules[token] & ~_BOUND
    log TokenBound(token=token, bound=False)


@external
def set_token_rules(
    token: address,
    allow_list: bool,
    accredited_only: bool,
    lockup_until: uint64,
    max_holders: uint32,
    max_balance: uint128,
):
    """
    @dev Sets `token`'s transfer rules. Only the registrar.
    @param token The stock token.
    @param allow_list True: only countries marked allowed may receive;
           False: every country not marked blocked may.
    @param accredited_only True: only accredited investors may receive.
    @param lockup_until Holders may not transfer before this Unix time.
    @param max_holders The most investors that may hold it; 0 for no limit.
    @param max_balance The most raw units one investor may hold across
           its wallets; 0 for no limit.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    assert token != empty(address), "registry: token is the zero address"
    word: uint256 = self._rules[token] & _BOUND
    if allow_list:
        word |= _ALLOW_LIST
    if accredited_only:
        word |= _ACCREDITED_ONLY
    word |= convert(lockup_until, uint256) << 8
    word |= convert(max_holders, uint256) << 72
    word |= convert(max_balance, uint256) << 128
    self._rules[token] = word
    log TokenRulesSet(
        token=token,
        allow_list=allow_list,
        accredited_only=accredited_only,
        lockup_until=lockup_until,
        max_holders=max_holders,
        max_balance=max_balance,
    )


@external
def set_country_rules(token: address, countries: DynArray[uint16, _MAX_BATCH], rule: uint8):
    """
    @dev Marks `countries` allowed, blocked or neither for `token`. Only the registrar.
    @param token The stock token.
    @param countries ISO 3166-1 numeric codes, 1 to 999.
    @param rule COUNTRY_NONE, COUNTRY_ALLOWED or COUNTRY_BLOCKED.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    assert rule <= COUNTRY_BLOCKED, "registry: unknown country rule"
    for country: uint16 in countries:
        assert country != 0 and country <= _MAX_COUNTRY, "registry: country is not ISO 3166 numeric"
        self._country_rules[token][country] = rule
    log CountryRulesSet(token=token, countries=countries, rule=rule)


@external
def set_holder_count(token: address, count: uint256):
    """
    @dev Re-syncs `token`'s holder count from an off-chain recount. Only the registrar.
    @param token The stock token.
    @param count The number of investors holding it.
    """
    access_control._check_role(REGISTRAR_ROLE, msg.sender)
    self.holder_count[token] = count
    log HolderCountSet(token=token, holder_count=count)


@external
def on_transfer(
    sender: address,
    receiver: address,
    amount: uint256,
    sender_balance: uint256,
    receiver_balance: uint256,
    enforce: bool,
) -> uint8:
    """
    @dev Called by a token before it moves `amount` (a mint when
         `sender` is zero, a burn when `receiver` is zero). Returns the
         restriction code when `enforce` is set, and keeps the token's
         holder count when the movement is allowed. Enforcing needs the
         token bound.
    @param sender The 20-byte sender, or zero for a mint.
    @param receiver The 20-byte receiver, or zero for a burn.
    @param amount The raw amount.
    @param sender_balance The sender's balance before the movement.
    @param receiver_balance The receiver's balance before the movement.
    @param enforce False for movements the token's agent forces.
    @return uint8 The restriction code, 0 when allowed.
    """
    # Counting needs no binding: a caller only ever moves its own count.
    # Binding decides whether the token's rules can be enforced here.
    sender_word: uint256 = self._wallets[sender]
    receiver_word: uint256 = self._wallets[receiver]
    joins: bool = False
    leaves: bool = False
    joins, leaves = self._holder_changes(
        msg.sender, sender, receiver, sender_word, receiver_word, amount, sender_balance, receiver_balance
    )
    if enforce:
        rules: uint256 = self._rules[msg.sender]
        if rules & _BOUND == 0:
            return transfer_codes.TOKEN_NOT_BOUND
        code: uint8 = self._check(
            msg.sender, rules, sender, receiver, sender_word, receiver_word, amount, receiver_balance, joins, leaves
        )
        if code != transfer_codes.OK:
            return code
    if joins and not leaves:
        self.holder_count[msg.sender] += 1
    elif leaves and not joins:
        # Saturates: a count that drifted (wallets moved between investors
        # while holding) must never block a movement.
        count: uint256 = self.holder_count[msg.sender]
        if count > 0:
            self.holder_count[msg.sender] = count - 1
    return transfer_codes.OK


@external
@view
def check_transfer(
    token: address,
    sender: address,
    receiver: address,
    amount: uint256,
    sender_balance: uint256,
    receiver_balance: uint256,
) -> uint8:
    """
    @dev Returns the code `on_transfer` would return for `token`.
    @param token The stock token.
    @param sender The 20-byte sender, or zero for a mint.
    @param receiver The 20-byte receiver.
    @param amount The raw amount.
    @param sender_balance The sender's balance before the movement.
    @param receiver_balance The receiver's balance before the movement.
    @return uint8 The restriction code, 0 when allowed.
    """
    rules: uint256 = self._rules[token]
    if rules & _BOUND == 0:
        return transfer_codes.TOKEN_NOT_BOUND
    sender_word: uint256 = self._wallets[sender]
    receiver_word: uint256 = self._wallets[receiver]
    joins: bool = False
    leaves: bool = False
    joins, leaves = self._holder_changes(
        token, sender, receiver, sender_word, receiver_word, amount, sender_balance, receiver_balance
    )
    return self._check(token, rules, sender, receiver, sender_word, receiver_word, amount, receiver_balance, joins, leaves)


@external
@view
def investor_of(wallet: address) -> uint64:
    """
    @dev Returns the investor `wallet` belongs to, 0 if none.
    @param wallet The 20-byte wallet.
    @return uint64 The investor id.
    """
    return convert(self._wallets[wallet] & _MASK_64, uint64)


@external
@view
def identity(wallet: address) -> Identity:
    """
    @dev Returns the verified identity behind `wallet` (all zero if none).
    @param wallet The 20-byte wallet.
    @return Identity Investor id, country, KYC expiry, accredited, frozen.
    """
    word: uint256 = self._wallets[wallet]
    return Identity(
        investor_id=convert(word & _MASK_64, uint64),
        country=convert((word >> 64) & _MASK_16, uint16),
        kyc_expiry=convert((word >> 80) & _MASK_64, uint64),
        accredited=word & _ACCREDITED != 0,
        frozen=word & _FROZEN != 0,
    )


@external
@view
def investor(investor_id: uint64) -> Investor:
    """
    @dev Returns an investor's record and wallets.
    @param investor_id The investor's id.
    @return Investor The record; country 0 if unknown.
    """
    return self._investors[investor_id]


@external
@view
def wallets_of(investor_id: uint64) -> DynArray[address, MAX_WALLETS]:
    """
    @dev Returns the wallets bound to an investor.
    @param investor_id The investor's id.
    @return DynArray The wallets.
    """
    return self._investors[investor_id].wallets


@external
@view
def is_verified(wallet: address) -> bool:
    """
    @dev Returns whether `wallet` belongs to an investor who is not
         frozen and whose KYC has not expired.
    @param wallet The 20-byte wallet.
    @return bool True if verified.
    """
    word: uint256 = self._wallets[wallet]
    return (
        word & _MASK_64 != 0
        and word & _FROZEN == 0
        and (word >> 80) & _MASK_64 >= block.timestamp
    )


@external
@view
def token_rules(token: address) -> TokenRules:
    """
    @dev Returns `token`'s transfer rules.
    @param token The stock token.
    @return TokenRules The rules.
    """
    word: uint256 = self._rules[token]
    return TokenRules(
        bound=word & _BOUND != 0,
        allow_list=word & _ALLOW_LIST != 0,
        accredited_only=word & _ACCREDITED_ONLY != 0,
        lockup_until=convert((word >> 8) & _MASK_64, uint64),
        max_holders=convert((word >> 72) & _MASK_32, uint32),
        max_balance=convert(word >> 128, uint128),
    )


@external
@view
def country_rule(token: address, country: uint16) -> uint8:
    """
    @dev Returns how `token` treats `country`.
    @param token The stock token.
    @param country The ISO 3166-1 numeric code.
    @return uint8 COUNTRY_NONE, COUNTRY_ALLOWED or COUNTRY_BLOCKED.
    """
    return self._country_rules[token][country]


@internal
def _write_wallets(investor_id: uint64, investor: Investor):
    # Every wallet carries a copy of its investor's record, so a
    # transfer check reads one word per wallet.
    word: uint256 = convert(investor_id, uint256)
    word |= convert(investor.country, uint256) << 64
    word |= convert(investor.kyc_expiry, uint256) << 80
    if investor.accredited:
        word |= _ACCREDITED
    if investor.frozen:
        word |= _FROZEN
    word |= len(investor.wallets) << 146
    for wallet: address in investor.wallets:
        self._wallets[wallet] = word


@internal
@view
def _investor_balance(token: address, wallet: address, word: uint256, wallet_balance: uint256) -> uint256:
    # The balance of `wallet`'s investor summed over its wallets; the
    # common single-wallet case costs nothing beyond the word already read.
    investor_id: uint64 = convert(word & _MASK_64, uint64)
    if investor_id == 0 or (word >> 146) & 255 <= 1:
        return wallet_balance
    total: uint256 = wallet_balance
    for other: address in self._investors[investor_id].wallets:
        if other != wallet:
            total += staticcall IERC20(token).balanceOf(other)
    return total


@internal
@view
def _same_investor(sender_word: uint256, receiver_word: uint256) -> bool:
    investor_id: uint256 = sender_word & _MASK_64
    return investor_id != 0 and investor_id == receiver_word & _MASK_64


@internal
@view
def _holder_changes(
    token: address,
    sender: address,
    receiver: address,
    sender_word: uint256,
    receiver_word: uint256,
    amount: uint256,
    sender_balance: uint256,
    receiver_balance: uint256,
) -> (bool, bool):
    # Whether the movement adds the receiver's investor to the holders
    # and whether it removes the sender's.
    if amount == 0 or sender == receiver or self._same_investor(sender_word, receiver_word):
        return (False, False)
    joins: bool = False
    leaves: bool = False
    if receiver != empty(address):
        joins = self._investor_balance(token, receiver, receiver_word, receiver_balance) == 0
    if sender != empty(address):
        leaves = self._investor_balance(token, sender, sender_word, sender_balance) == amount
    return (joins, leaves)


@internal
@view
def _check(
    token: address,
    rules: uint256,
    sender: address,
    receiver: address,
    sender_word: uint256,
    receiver_word: uint256,
    amount: uint256,
    receiver_balance: uint256,
    joins: bool,
    leaves: bool,
) -> uint8:
    if sender != empty(address):
        if sender_word & _FROZEN != 0:
            return transfer_codes.SENDER_FROZEN
        if block.timestamp < (rules >> 8) & _MASK_64:
            return transfer_codes.LOCKED_UP
    if receiver_word & _MASK_64 == 0:
        return transfer_codes.RECEIVER_NOT_VERIFIED
    if receiver_word & _FROZEN != 0:
        return transfer_codes.RECEIVER_FROZEN
    if (receiver_word >> 80) & _MASK_64 < block.timestamp:
        return transfer_codes.RECEIVER_KYC_EXPIRED
    country_rule: uint8 = self._country_rules[token][convert((receiver_word >> 64) & _MASK_16, uint16)]
    if country_rule == COUNTRY_BLOCKED or (rules & _ALLOW_LIST != 0 and country_rule != COUNTRY_ALLOWED):
        return transfer_codes.COUNTRY_NOT_ALLOWED
    if rules & _ACCREDITED_ONLY != 0 and receiver_word & _ACCREDITED == 0:
        return transfer_codes.NOT_ACCREDITED
    max_balance: uint256 = rules >> 128
    if max_balance != 0 and not self._same_investor(sender_word, receiver_word):
        if self._investor_balance(token, receiver, receiver_word, receiver_balance) + amount > max_balance:
            return transfer_codes.MAX_BALANCE_EXCEEDED
    max_holders: uint256 = (rules >> 72) & _MASK_32
    if max_holders != 0 and joins and not leaves and self.holder_count[token] >= max_holders:
        return transfer_codes.MAX_HOLDERS_REACHED
    return transfer_codes.OK
