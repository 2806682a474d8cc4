# pragma version ~=0.4.3
"""
@title Private-company share token: agent-approved transfers, lock-ups
@custom:contract-name PrivateShareToken
@license GNU Affero General Public License v3.0 or later
@notice Shares of a company that is not listed, held only by verified
        accredited investors. Built on snekmate's ERC-20 ledger, access
        control, two-step ownership and pausable modules, with the stock
        token's `freezes` module and a `lockups` module, it offers:
        - issuance rounds: `issue` (tokens minted to an accredited
          investor, optionally locked up until a time) and `buy_back`
          (the issuer burns a holder's tokens), ISSUER_ROLE;
        - transfers as requests: a holder calls `request_transfer`; the
          transfer agent (TRANSFER_AGENT_ROLE) calls `approve_transfer`,
          which moves the tokens only if every rule holds at that moment,
          or `reject_transfer` with a reason; the holder may
          `cancel_transfer` while it is pending. There is no ERC-20
          `transfer`, `transferFrom` or `approve`: no wallet or venue may
          assume these shares move freely;
        - `check_request`: the checks `approve_transfer` runs, as a
          (code, reason) pair, for the agent's queue;
        - compliance: the sanctions list on both parties, address and
          partial freezes (`freezes`, COMPLIANCE_AGENT_ROLE), `recover_wallet`
          (the compliance agent moves a lost wallet's shares, lock-ups and
          freezes to the same investor's new wallet), the identity
          registry (receiver verified and accredited, the token's rules
          there: countries, max holders, ...), `pause`/`unpause`;
        - `valuation_feed`: where the issuer publishes its valuation
          (`ValuationFeed`), and `name`, `symbol`, `isin`, `terms_uri`.

        Requests reserve, they do not escrow: a pending request keeps the
        tokens in the sender's balance (the cap table stays true and the
        registry's holder count is not disturbed by an escrow address)
        but reserves them, so the sender can neither request nor have
        bought back more than it holds, and an approval never fails for
        want of balance. For a holder h at time t (see `lockups` for
        B, L and U):
        - P(h)     the sum of h's pending requests; always P(h) <= B(h);
        - Z(h)     the partially frozen amount (`freezes`).
        request a      needs a <= B(h) - P(h); then P grows by a;
        approve a      needs a <= U(h, now) = B(h) - L(h, now) and
                       B(h) - a >= Z(h); B and P shrink by a, so P <= B
                       and L <= B still hold;
        reject/cancel  P shrinks by a;
        buy_back x     needs x <= B(h) - P(h) and B(h) - x >= Z(h); it
                       takes unlocked tokens first, then locked ones
                       (`lockups._take_locked`), so L <= B still holds;
        issue a, u     B grows by a, and L too when u > now.
        The lock-up is checked when the agent approves, not when the
        holder requests: a request may wait for its lock-up to end.
@custom:security Pausing stops requests, approvals, issuance and
                 buybacks; rejections and cancellations stay possible:
                 they move nothing and only release reservations.
"""


from snekmate.auth import ownable
from snekmate.auth import ownable_2step
from snekmate.auth import access_control
from snekmate.tokens import erc20
from snekmate.utils import pausable

from . import freezes
from . import lockups
from ..compliance import transfer_codes
from ..interfaces import ISanctionsList
from ..interfaces import IIdentityRegistry

initializes: ownable
initializes: ownable_2step[ownable := ownable]
initializes: erc20[ownable := ownable]
initializes: access_control
initializes: pausable
initializes: freezes[access_control := access_control, erc20 := erc20]
initializes: lockups


exports: (
    erc20.balanceOf,
    erc20.totalSupply,
    erc20.decimals,
    ownable_2step.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    access_control.supportsInterface,
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    pausable.paused,
    freezes.__interface__,
    lockups.__interface__,
)


ISSUER_ROLE: public(constant(bytes32)) = keccak256("ISSUER_ROLE")
TRANSFER_AGENT_ROLE: public(constant(bytes32)) = keccak256("TRANSFER_AGENT_ROLE")
PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")

# @dev Nobody holds this role; as the admin role of DEFAULT_ADMIN_ROLE it
# makes `accept_ownership` the only way the admin role changes hands.
_ADMIN_TRANSFER_ONLY: constant(bytes32) = keccak256("ADMIN_TRANSFER_ONLY")


# @dev A request's status.
PENDING: public(constant(uint8)) = 1
APPROVED: public(constant(uint8)) = 2
REJECTED: public(constant(uint8)) = 3
CANCELLED: public(constant(uint8)) = 4


# @dev The one restriction of this token that `transfer_codes` lacks.
AMOUNT_RESERVED: public(constant(uint8)) = 32


struct Request:
    sender: address
    receiver: address
    amount: uint256
    status: uint8
    requested_at: uint64
    decided_at: uint64


# @dev A request as stored: `head` packs the sender (bits 0..159), the
# status (160..167), when it was requested (168..207) and decided
# (208..247), so filing one writes three words and deciding it one.
struct _Stored:
    head: uint256
    receiver: address
    amount: uint256


_STATUS_SHIFT: constant(uint256) = 160
_REQUESTED_SHIFT: constant(uint256) = 168
_DECIDED_SHIFT: constant(uint256) = 208
_MASK_40: constant(uint256) = (1 << 40) - 1
_MASK_160: constant(uint256) = (1 << 160) - 1
_CLEAR_DECISION: constant(uint256) = ~((255 << _STATUS_SHIFT) | (_MASK_40 << _DECIDED_SHIFT))


# @dev The registry's view of a wallet, as `IdentityRegistry.identity` returns it.
struct Identity:
    investor_id: uint64
    country: uint16
    kyc_expiry: uint64
    accredited: bool
    frozen: bool


interface IIdentityReader:
    def identity(wallet: address) -> Identity: view


name: public(immutable(String[50]))
symbol: public(immutable(String[16]))
isin: public(immutable(String[12]))
terms_uri: public(String[256])

# @dev The Chainalysis-compatible sanctions oracle; the zero address
# switches the sanctions check off.
sanctions_list: public(address)

# @dev The identity registry every receiver is checked against.
identity_registry: public(address)

# @dev The issuer's valuation feed (informational: venues read it there).
valuation_feed: public(address)

# @dev The number of requests so far; ids run from 1.
request_count: public(uint256)

# @dev P(h): the sum of `holder`'s pending requests.
pending_out: public(HashMap[address, uint256])

_requests: HashMap[uint256, _Stored]


event TransferRequested:
    request_id: indexed(uint256)
    sender: indexed(address)
    receiver: indexed(address)
    amount: uint256


event TransferApproved:
    request_id: indexed(uint256)
    sender: indexed(address)
    receiver: indexed(address)
    amount: uint256
    agent: address


event TransferRejected:
    request_id: indexed(uint256)
    sender: indexed(address)
    receiver: indexed(address)
    amount: uint256
    reason: String[96]
    agent: address


event TransferCancelled:
    request_id: indexed(uint256)
    sender: indexed(address)
    amount: uint256


event Issued:
    holder: indexed(address)
    amount: uint256
    unlock_at: uint64
    round_id: indexed(uint64)
    issuer: address


event BoughtBack:
    holder: indexed(address)
    amount: uint256
    locked_taken: uint256
    issuer: address


event WalletRecovered:
    lost_wallet: indexed(address)
    new_wallet: indexed(address)
    amount: uint256
    agent: indexed(address)


event SanctionsListSet:
    sanctions_list: indexed(address)


event IdentityRegistrySet:
    identity_registry: indexed(address)


event ValuationFeedSet:
    valuation_feed: indexed(address)


event TermsURISet:
    terms_uri: String[256]


@deploy
def __init__(
    name_: String[50],
    symbol_: String[16],
    decimals_: uint8,
    isin_: String[12],
    terms_uri_: String[256],
    sanctions_list_: address,
    identity_registry_: address,
    valuation_feed_: address,
):
    """
    @dev The deployer becomes the owner and admin and holds no other role.
    @param name_ The token's name.
    @param symbol_ The token's symbol.
    @param decimals_ The token's decimals.
    @param isin_ The shares' ISIN (12 characters), or empty if none.
    @param terms_uri_ Where the shares' legal terms are published.
    @param sanctions_list_ The sanctions oracle, or the zero address for none.
    @param identity_registry_ The identity registry; required.
    @param valuation_feed_ The issuer's valuation feed, or the zero address.
    """
    assert len(isin_) == 0 or len(isin_) == 12, "private: an ISIN has 12 characters"
    assert identity_registry_ != empty(address), "private: registry is the zero address"

    ownable.__init__()
    ownable_2step.__init__()
    # snekmate's ERC-20 caps name and symbol at 25 and 5 characters;
    # this contract keeps its own.
    erc20.__init__("", "", decimals_, name_, "1")
    access_control.__init__()
    access_control._set_role_admin(access_control.DEFAULT_ADMIN_ROLE, _ADMIN_TRANSFER_ONLY)
    pausable.__init__()

    name = name_
    symbol = symbol_
    isin = isin_
    self.terms_uri = terms_uri_
    self.sanctions_list = sanctions_list_
    self.identity_registry = identity_registry_
    self.valuation_feed = valuation_feed_


@external
def request_transfer(receiver: address, amount: uint256) -> uint256:
    """
    @dev Files a request to move `amount` of the caller's tokens to
         `receiver`, reserving them until it is decided. Nothing moves.
    @param receiver The 20-byte receiver address; not the caller.
    @param amount The raw amount; not zero, at most the balance not
           already under request.
    @return uint256 The request id.
    """
    assert amount > 0, "private: amount is zero"
    assert receiver != msg.sender, "private: receiver is the sender"
    code: uint8 = transfer_codes.OK
    balance: uint256 = erc20.balanceOf[msg.sender]
    if pausable.paused:
        code = transfer_codes.PAUSED
    elif receiver == empty(address):
        code = transfer_codes.INVALID_RECEIVER
    elif freezes._is_frozen(freezes._state[msg.sender]):
        code = transfer_codes.SENDER_FROZEN
    elif amount > balance:
        code = transfer_codes.INSUFFICIENT_BALANCE
    elif amount > balance - self.pending_out[msg.sender]:
        code = AMOUNT_RESERVED
    self._require_ok(code)
    request_id: uint256 = self.request_count + 1
    self.request_count = request_id
    self._requests[request_id] = _Stored(
        head=convert(msg.sender, uint256)
        | (convert(PENDING, uint256) << _STATUS_SHIFT)
        | (block.timestamp << _REQUESTED_SHIFT),
        receiver=receiver,
        amount=amount,
    )
    self.pending_out[msg.sender] += amount
    log TransferRequested(request_id=request_id, sender=msg.sender, receiver=receiver, amount=amount)
    return request_id


@external
def approve_transfer(request_id: uint256):
    """
    @dev Moves a pending request's tokens if every rule holds now (see
         `check_request`), else reverts with the reason and changes
         nothing. Only the transfer agent.
    @param request_id The id of a pending request.
    """
    access_control._check_role(TRANSFER_AGENT_ROLE, msg.sender)
    request: Request = self._pending(request_id)
    sender_balance: uint256 = erc20.balanceOf[request.sender]
    code: uint8 = self._check_local(request.sender, request.receiver, request.amount, sender_balance)
    if code == transfer_codes.OK:
        code = extcall IIdentityRegistry(self.identity_registry).on_transfer(
            request.sender,
            request.receiver,
            request.amount,
            sender_balance,
            erc20.balanceOf[request.receiver],
            True,
        )
    self._require_ok(code)
    self.pending_out[request.sender] -= request.amount
    self._decide(request_id, APPROVED)
    erc20._transfer(request.sender, request.receiver, request.amount)
    log TransferApproved(
        request_id=request_id,
        sender=request.sender,
        receiver=request.receiver,
        amount=request.amount,
        agent=msg.sender,
    )


@external
def reject_transfer(request_id: uint256, reason: String[96]):
    """
    @dev Refuses a pending request and releases its reservation. Only
         the transfer agent.
    @param request_id The id of a pending request.
    @param reason Why, for the holder; not empty.
    """
    access_control._check_role(TRANSFER_AGENT_ROLE, msg.sender)
    assert len(reason) > 0, "private: a rejection needs a reason"
    request: Request = self._pending(request_id)
    self._close(request_id, request, REJECTED)
    log TransferRejected(
        request_id=request_id,
        sender=request.sender,
        receiver=request.receiver,
        amount=request.amount,
        reason=reason,
        agent=msg.sender,
    )


@external
def cancel_transfer(request_id: uint256):
    """
    @dev Withdraws the caller's own pending request and releases its
         reservation.
    @param request_id The id of a pending request the caller filed.
    """
    request: Request = self._pending(request_id)
    assert request.sender == msg.sender, "private: only the requester may cancel"
    self._close(request_id, request, CANCELLED)
    log TransferCancelled(request_id=request_id, sender=request.sender, amount=request.amount)


@external
@view
def request(request_id: uint256) -> Request:
    """
    @dev Returns a request; all zero if there is none.
    @param request_id The request id.
    @return Request Sender, receiver, amount, status, request and decision times.
    """
    return self._unpack(request_id)


@external
@view
def check_request(request_id: uint256) -> (uint8, String[48]):
    """
    @dev Returns whether `approve_transfer(request_id)` would move the
         tokens now, as the code and reason it would revert with.
    @param request_id The id of a pending request.
    @return uint8 The restriction code, 0 when allowed.
    @return String The reason.
    """
    request: Request = self._pending(request_id)
    sender_balance: uint256 = erc20.balanceOf[request.sender]
    code: uint8 = self._check_local(request.sender, request.receiver, request.amount, sender_balance)
    if code == transfer_codes.OK:
        code = staticcall IIdentityRegistry(self.identity_registry).check_transfer(
            self, request.sender, request.receiver, request.amount, sender_balance, erc20.balanceOf[request.receiver]
        )
    return (code, self._reason(code))


@external
@view
def unlocked_balance(holder: address) -> uint256:
    """
    @dev Returns U(holder, now): the balance past its lock-ups,
         pending requests included.
    @param holder The 20-byte holder address.
    @return uint256 The unlocked raw amount.
    """
    return erc20.balanceOf[holder] - lockups._locked_at(holder, block.timestamp)


@external
def issue(holder: address, amount: uint256, unlock_at: uint64, round_id: uint64):
    """
    @dev Mints `amount` new shares to `holder` in issuance round
         `round_id`, locked up until `unlock_at`. Only the issuer; the
         holder must be a verified accredited investor the registry's
         rules accept, neither sanctioned nor frozen.
    @param holder The 20-byte receiver address.
    @param amount The raw amount; not zero.
    @param unlock_at The end of the lock-up (Unix seconds); a time not
           after now means no lock-up.
    @param round_id The issuance round's id; not zero.
    """
    access_control._check_role(ISSUER_ROLE, msg.sender)
    assert amount > 0, "private: amount is zero"
    assert round_id != 0, "private: round id is zero"
    code: uint8 = transfer_codes.OK
    if pausable.paused:
        code = transfer_codes.PAUSED
    elif holder == empty(address):
        code = transfer_codes.INVALID_RECEIVER
    elif freezes._is_frozen(freezes._state[holder]):
        code = transfer_codes.RECEIVER_FROZEN
    elif self._is_sanctioned(holder):
        code = transfer_codes.RECEIVER_SANCTIONED
    else:
        code = self._check_accredited(holder)
    if code == transfer_codes.OK:
        code = extcall IIdentityRegistry(self.identity_registry).on_transfer(
            empty(address), holder, amount, 0, erc20.balanceOf[holder], True
        )
    self._require_ok(code)
    lockups._add(holder, amount, unlock_at)
    erc20._mint(holder, amount)
    log Issued(holder=holder, amount=amount, unlock_at=unlock_at, round_id=round_id, issuer=msg.sender)


@external
def buy_back(holder: address, amount: uint256):
    """
    @dev Burns `amount` of `holder`'s shares the issuer has bought back,
         unlocked ones first, then those whose lock-up ends last. Only
         the issuer; never tokens under a pending request, frozen
         tokens or a sanctioned holder's.
    @param holder The 20-byte holder address.
    @param amount The raw amount; not zero.
    """
    access_control._check_role(ISSUER_ROLE, msg.sender)
    assert amount > 0, "private: amount is zero"
    balance: uint256 = erc20.balanceOf[holder]
    state: uint256 = freezes._state[holder]
    code: uint8 = transfer_codes.OK
    if pausable.paused:
        code = transfer_codes.PAUSED
    elif freezes._is_frozen(state):
        code = transfer_codes.SENDER_FROZEN
    elif amount > balance:
        code = transfer_codes.INSUFFICIENT_BALANCE
    elif amount > balance - self.pending_out[holder]:
        code = AMOUNT_RESERVED
    elif balance - amount < freezes._frozen_amount(state):
        code = transfer_codes.AMOUNT_FROZEN
    elif self._is_sanctioned(holder):
        code = transfer_codes.SENDER_SANCTIONED
    self._require_ok(code)
    locked: uint256 = lockups._locked_at(holder, block.timestamp)
    unlocked: uint256 = balance - locked
    locked_taken: uint256 = 0
    if amount > unlocked:
        locked_taken = amount - unlocked
        lockups._take_locked(holder, locked_taken)
    extcall IIdentityRegistry(self.identity_registry).on_transfer(holder, empty(address), amount, balance, 0, False)
    erc20._burn(holder, amount)
    log BoughtBack(holder=holder, amount=amount, locked_taken=locked_taken, issuer=msg.sender)


@external
def recover_wallet(lost_wallet: address, new_wallet: address):
    """
    @dev Moves the whole balance of a lost wallet, with its lock-up lots
         and freeze state, to its owner's new wallet. Only the compliance
         agent; both wallets must belong to the same investor in the
         registry, the lost one may have no pending request (reject or
         cancel them first), and never while paused or to a sanctioned
         wallet.
    @param lost_wallet The 20-byte address the investor lost.
    @param new_wallet The 20-byte address replacing it.
    """
    access_control._check_role(freezes.COMPLIANCE_AGENT_ROLE, msg.sender)
    assert new_wallet != lost_wallet, "private: wallets are the same"
    code: uint8 = transfer_codes.OK
    if pausable.paused:
        code = transfer_codes.PAUSED
    elif new_wallet == empty(address):
        code = transfer_codes.INVALID_RECEIVER
    elif self._is_sanctioned(new_wallet):
        code = transfer_codes.RECEIVER_SANCTIONED
    self._require_ok(code)
    balance: uint256 = erc20.balanceOf[lost_wallet]
    assert balance > 0, "private: lost wallet holds no shares"
    assert self.pending_out[lost_wallet] == 0, "private: lost wallet has pending requests"
    registry: address = self.identity_registry
    investor: uint64 = staticcall IIdentityRegistry(registry).investor_of(lost_wallet)
    assert investor != 0, "private: lost wallet is not registered"
    assert staticcall IIdentityRegistry(registry).investor_of(new_wallet) == investor, (
        "private: wallets belong to different investors"
    )
    extcall IIdentityRegistry(registry).on_transfer(
        lost_wallet, new_wallet, balance, balance, erc20.balanceOf[new_wallet], False
    )
    lockups._move(lost_wallet, new_wallet)
    freezes._move(lost_wallet, new_wallet)
    erc20._transfer(lost_wallet, new_wallet, balance)
    log WalletRecovered(lost_wallet=lost_wallet, new_wallet=new_wallet, amount=balance, agent=msg.sender)


@external
def pause():
    """
    @dev Stops requests, approvals, issuance and buybacks. Only a pauser.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._pause()


@external
def unpause():
    """
    @dev Lets them run again. Only a pauser.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._unpause()


@external
def accept_ownership():
    """
    @dev Completes the two-step admin transfer: the pending owner becomes
         the owner and takes over DEFAULT_ADMIN_ROLE from the old one.
    """
    assert ownable_2step.pending_owner == msg.sender, "ownable_2step: caller is not the new owner"
    previous: address = ownable.owner
    ownable_2step._transfer_ownership(msg.sender)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, previous)
    access_control._grant_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)


@external
def set_sanctions_list(sanctions_list: address):
    """
    @dev Points the sanctions check at `sanctions_list`. Only the admin.
    @param sanctions_list The oracle; the zero address switches the check off.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.sanctions_list = sanctions_list
    log SanctionsListSet(sanctions_list=sanctions_list)


@external
def set_identity_registry(identity_registry: address):
    """
    @dev Points the token at another identity registry. Only the admin.
    @param identity_registry The registry; not the zero address.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert identity_registry != empty(address), "private: registry is the zero address"
    self.identity_registry = identity_registry
    log IdentityRegistrySet(identity_registry=identity_registry)


@external
def set_valuation_feed(valuation_feed: address):
    """
    @dev Publishes where the issuer's valuation is read. Only the admin.
    @param valuation_feed The feed; not the zero address.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert valuation_feed != empty(address), "private: feed is the zero address"
    self.valuation_feed = valuation_feed
    log ValuationFeedSet(valuation_feed=valuation_feed)


@external
def set_terms_uri(terms_uri: String[256]):
    """
    @dev Publishes where the shares' terms are. Only the admin.
    @param terms_uri The new URI.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.terms_uri = terms_uri
    log TermsURISet(terms_uri=terms_uri)


@internal
@view
def _unpack(request_id: uint256) -> Request:
    stored: _Stored = self._requests[request_id]
    head: uint256 = stored.head
    return Request(
        sender=convert(head & _MASK_160, address),
        receiver=stored.receiver,
        amount=stored.amount,
        status=convert((head >> _STATUS_SHIFT) & 255, uint8),
        requested_at=convert((head >> _REQUESTED_SHIFT) & _MASK_40, uint64),
        decided_at=convert((head >> _DECIDED_SHIFT) & _MASK_40, uint64),
    )


@internal
def _decide(request_id: uint256, status: uint8):
    head: uint256 = self._requests[request_id].head & _CLEAR_DECISION
    self._requests[request_id].head = (
        head | (convert(status, uint256) << _STATUS_SHIFT) | (block.timestamp << _DECIDED_SHIFT)
    )


@internal
@view
def _pending(request_id: uint256) -> Request:
    request: Request = self._unpack(request_id)
    assert request.status != 0, "private: no such request"
    assert request.status == PENDING, "private: request is not pending"
    return request


@internal
def _close(request_id: uint256, request: Request, status: uint8):
    self.pending_out[request.sender] -= request.amount
    self._decide(request_id, status)


@internal
@view
def _check_local(sender: address, receiver: address, amount: uint256, sender_balance: uint256) -> uint8:
    # Cheapest checks first: every branch taken here saves an external call.
    if pausable.paused:
        return transfer_codes.PAUSED
    sender_state: uint256 = freezes._state[sender]
    if freezes._is_frozen(sender_state):
        return transfer_codes.SENDER_FROZEN
    if freezes._is_frozen(freezes._state[receiver]):
        return transfer_codes.RECEIVER_FROZEN
    if sender_balance - amount < freezes._frozen_amount(sender_state):
        return transfer_codes.AMOUNT_FROZEN
    if amount > sender_balance - lockups._locked_at(sender, block.timestamp):
        return transfer_codes.LOCKED_UP
    sanctions: address = self.sanctions_list
    if sanctions != empty(address):
        if staticcall ISanctionsList(sanctions).isSanctioned(sender):
            return transfer_codes.SENDER_SANCTIONED
        if staticcall ISanctionsList(sanctions).isSanctioned(receiver):
            return transfer_codes.RECEIVER_SANCTIONED
    sender_identity: Identity = staticcall IIdentityReader(self.identity_registry).identity(sender)
    if sender_identity.frozen:
        return transfer_codes.SENDER_FROZEN
    return self._check_accredited(receiver)


@internal
@view
def _check_accredited(receiver: address) -> uint8:
    # Whatever the registry's rules for this token say, a private share
    # only ever reaches a verified, accredited investor.
    who: Identity = staticcall IIdentityReader(self.identity_registry).identity(receiver)
    if who.investor_id == 0:
        return transfer_codes.RECEIVER_NOT_VERIFIED
    if who.frozen:
        return transfer_codes.RECEIVER_FROZEN
    if convert(who.kyc_expiry, uint256) < block.timestamp:
        return transfer_codes.RECEIVER_KYC_EXPIRED
    if not who.accredited:
        return transfer_codes.NOT_ACCREDITED
    return transfer_codes.OK


@internal
@view
def _is_sanctioned(account: address) -> bool:
    sanctions: address = self.sanctions_list
    return sanctions != empty(address) and staticcall ISanctionsList(sanctions).isSanctioned(account)


@internal
@pure
def _reason(code: uint8) -> String[48]:
    if code == AMOUNT_RESERVED:
        return "amount exceeds the balance not under request"
    return transfer_codes._reason(code)


@internal
@pure
def _require_ok(code: uint8):
    # Revert with the same reason `check_request` gives, as Error(string).
    if code != transfer_codes.OK:
        raw_revert(abi_encode(self._reason(code), method_id=method_id("Error(string)")))
