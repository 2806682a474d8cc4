# pragma version ~=0.4.3
"""
@title Stock token: one share-backed ERC-20 per instrument
@custom:contract-name StockToken
@license GNU Affero General Public License v3.0 or later
@notice A token backed 1:1 by shares an SPV holds at a custodian. Built
        on snekmate's ERC-20 (with EIP-2612 permit), access control,
        two-step ownership and pausable modules, it adds:
        - issuance: `mint`, `burn`, `burn_from`, gated by the reserve
          feed (`secure_mint` module);
        - corporate actions as an ERC-8056 UI multiplier with history
          (`ui_multiplier` module);
        - compliance: the Chainalysis-style sanctions list on sender,
          receiver and spender; address and partial freezes (`freezes`
          module); `forced_transfer` and `recover_wallet` by the
          compliance agent; `pause`/`unpause`;
        - a compliance profile fixed at deployment:
            0 `open`          sanctions and freezes only,
            1 `permissioned`  receivers must be verified investors that
                              the token's rules in the identity registry
                              allow,
            2 `restricted`    as permissioned, and only an operator
                              (OPERATOR_ROLE) may move tokens;
        - `can_transfer`/`can_transfer_from`: the pre-check the transfer
          path itself runs, as a (code, reason) pair;
        - metadata: `name`, `symbol`, `isin`, `ticker`, `terms_uri`.
        Roles: the admin (DEFAULT_ADMIN_ROLE, held by the owner and moved
        only by the two-step `transfer_ownership`/`accept_ownership`),
        MINTER_ROLE, BURNER_ROLE, PAUSER_ROLE, MULTIPLIER_UPDATER_ROLE,
        COMPLIANCE_AGENT_ROLE and OPERATOR_ROLE.
@custom:security Pausing stops every movement of tokens, forced transfers
                 and recoveries included. Approvals and permits stay
                 possible while paused: they move nothing, and a
                 sanctioned spender is stopped when it tries to spend.
"""


from ethereum.ercs import IERC20
implements: IERC20

from ethereum.ercs import IERC20Detailed
implements: IERC20Detailed

from snekmate.auth import ownable
from snekmate.auth import ownable_2step
from snekmate.auth import access_control
from snekmate.tokens import erc20
from snekmate.utils import pausable

from . import ui_multiplier
from . import secure_mint
from . import freezes
from ..compliance import transfer_codes
from ..interfaces import ISanctionsList
from ..interfaces import IIdentityRegistry

initializes: ownable
initializes: ownable_2step[ownable := ownable]
initializes: erc20[ownable := ownable]
initializes: access_control
initializes: pausable
initializes: ui_multiplier[access_control := access_control, erc20 := erc20]
initializes: secure_mint[access_control := access_control, erc20 := erc20]
initializes: freezes[access_control := access_control, erc20 := erc20]


exports: (
    erc20.balanceOf,
    erc20.allowance,
    erc20.totalSupply,
    erc20.decimals,
    erc20.approve,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
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
    ui_multiplier.__interface__,
    secure_mint.__interface__,
    freezes.__interface__,
)


MINTER_ROLE: public(constant(bytes32)) = keccak256("MINTER_ROLE")
BURNER_ROLE: public(constant(bytes32)) = keccak256("BURNER_ROLE")
PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")
OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")

# @dev Nobody holds this role; as the admin role of DEFAULT_ADMIN_ROLE it
# makes `accept_ownership` the only way the admin role changes hands.
_ADMIN_TRANSFER_ONLY: constant(bytes32) = keccak256("ADMIN_TRANSFER_ONLY")


PROFILE_OPEN: public(constant(uint8)) = 0
PROFILE_PERMISSIONED: public(constant(uint8)) = 1
PROFILE_RESTRICTED: public(constant(uint8)) = 2


name: public(immutable(String[50]))
symbol: public(immutable(String[16]))
isin: public(immutable(String[12]))
ticker: public(immutable(String[16]))
compliance_profile: public(immutable(uint8))
terms_uri: public(String[256])


# @dev The Chainalysis-compatible sanctions oracle; the zero address
# switches the sanctions check off (for chains that have no list).
sanctions_list: public(address)


# @dev The identity registry that `permissioned` and `restricted`
# tokens consult on every movement.
identity_registry: public(address)


event SanctionsListSet:
    sanctions_list: indexed(address)


event IdentityRegistrySet:
    identity_registry: indexed(address)


event TermsURISet:
    terms_uri: String[256]


event ForcedTransfer:
    sender: indexed(address)
    receiver: indexed(address)
    amount: uint256
    agent: indexed(address)


event WalletRecovered:
    lost_wallet: indexed(address)
    new_wallet: indexed(address)
    amount: uint256
    agent: indexed(address)


@deploy
def __init__(
    name_: String[50],
    symbol_: String[16],
    decimals_: uint8,
    isin_: String[12],
    ticker_: String[16],
    terms_uri_: String[256],
    profile_: uint8,
    sanctions_list_: address,
    identity_registry_: address,
    reserve_feed_: address,
    reserve_heartbeat_: uint256,
):
    """
    @dev The deployer becomes the owner and admin and holds no other role.
    @param name_ The token's name, also its EIP-712 domain name.
    @param symbol_ The token's symbol, e.g. "AAPLx".
    @param decimals_ The token's decimals.
    @param isin_ The underlying security's ISIN (12 characters).
    @param ticker_ The underlying's ticker, e.g. "AAPL".
    @param terms_uri_ Where the token's legal terms are published.
    @param profile_ The compliance profile: 0 open, 1 permissioned, 2 restricted.
    @param sanctions_list_ The sanctions oracle, or the zero address for none.
    @param identity_registry_ The identity registry; required unless `open`.
    @param reserve_feed_ The proof-of-reserve feed, or the zero address
           (mints then revert until one is set).
    @param reserve_heartbeat_ The largest age, in seconds, of the custody
           observation (the reserve round's `startedAt`) a mint rests on.
    """
    assert len(isin_) == 12, "token: an ISIN has 12 characters"
    assert profile_ <= PROFILE_RESTRICTED, "token: unknown compliance profile"
    assert profile_ == PROFILE_OPEN or identity_registry_ != empty(address), "token: profile needs a registry"

    ownable.__init__()
    ownable_2step.__init__()
    # snekmate's ERC-20 caps name and symbol at 25 and 5 characters,
    # too short for "GOOGLx"; this contract keeps its own.
    erc20.__init__("", "", decimals_, name_, "1")
    access_control.__init__()
    access_control._set_role_admin(access_control.DEFAULT_ADMIN_ROLE, _ADMIN_TRANSFER_ONLY)
    pausable.__init__()
    ui_multiplier.__init__()
    secure_mint.__init__(reserve_feed_, reserve_heartbeat_)

    name = name_
    symbol = symbol_
    isin = isin_
    ticker = ticker_
    compliance_profile = profile_
    self.terms_uri = terms_uri_
    self.sanctions_list = sanctions_list_
    self.identity_registry = identity_registry_


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @dev Moves `amount` of the caller's tokens to `to` if `can_transfer`
         allows it, else reverts with its reason.
    @param to The 20-byte receiver address.
    @param amount The raw amount.
    @return bool True; failures revert.
    """
    self._checked_transfer(msg.sender, msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @dev Moves `amount` of `owner`'s tokens to `to` on the caller's
         allowance if `can_transfer_from` allows it, else reverts with
         its reason.
    @param owner The 20-byte holder address.
    @param to The 20-byte receiver address.
    @param amount The raw amount.
    @return bool True; failures revert.
    """
    erc20._spend_allowance(owner, msg.sender, amount)
    self._checked_transfer(msg.sender, owner, to, amount)
    return True


@external
@view
def can_transfer(sender: address, receiver: address, amount: uint256) -> (uint8, String[48]):
    """
    @dev Returns whether `sender` may move `amount` to `receiver` now,
         running the checks `transfer` runs.
    @param sender The 20-byte holder address.
    @param receiver The 20-byte receiver address.
    @param amount The raw amount.
    @return uint8 The restriction code, 0 when allowed.
    @return String The reason.
    """
    code: uint8 = self._check(sender, sender, receiver, amount)
    return (code, transfer_codes._reason(code))


@external
@view
def can_transfer_from(spender: address, sender: address, receiver: address, amount: uint256) -> (uint8, String[48]):
    """
    @dev As `can_transfer`, for a `transferFrom` sent by `spender`
         (the allowance is not part of the check).
    @param spender The 20-byte address that would call `transferFrom`.
    @param sender The 20-byte holder address.
    @param receiver The 20-byte receiver address.
    @param amount The raw amount.
    @return uint8 The restriction code, 0 when allowed.
    @return String The reason.
    """
    code: uint8 = self._check(spender, sender, receiver, amount)
    return (code, transfer_codes._reason(code))


@external
def mint(to: address, amount: uint256):
    """
    @dev Creates `amount` tokens for `to`. Only a minter; the receiver
         must pass the receiving checks and the reserves must cover
         the new supply (`secure_mint`).
    @param to The 20-byte receiver address.
    @param amount The raw amount; not zero.
    """
    access_control._check_role(MINTER_ROLE, msg.sender)
    assert amount > 0, "token: amount is zero"
    code: uint8 = self._check_receiver(to)
    if code == transfer_codes.OK and compliance_profile != PROFILE_OPEN:
        code = extcall IIdentityRegistry(self.identity_registry).on_transfer(
            empty(address), to, amount, 0, erc20.balanceOf[to], True
        )
    self._require_ok(code)
    secure_mint._check_reserves(amount)
    erc20._mint(to, amount)


@external
def burn(amount: uint256):
    """
    @dev Destroys `amount` of the caller's tokens. Only a burner.
    @param amount The raw amount; not zero.
    """
    access_control._check_role(BURNER_ROLE, msg.sender)
    self._checked_burn(msg.sender, amount)


@external
def burn_from(owner: address, amount: uint256):
    """
    @dev Destroys `amount` of `owner`'s tokens on the caller's allowance.
         Only a burner.
    @param owner The 20-byte holder address.
    @param amount The raw amount; not zero.
    """
    access_control._check_role(BURNER_ROLE, msg.sender)
    erc20._spend_allowance(owner, msg.sender, amount)
    self._checked_burn(owner, amount)


@external
def forced_transfer(sender: address, receiver: address, amount: uint256):
    """
    @dev Moves `amount` from `sender` to `receiver` regardless of freezes
         and registry rules, releasing frozen tokens as needed (court
         orders, seizures). Only the compliance agent; never while
         paused, never to a sanctioned receiver.
    @param sender The 20-byte address the tokens are taken from.
    @param receiver The 20-byte receiver address.
    @param amount The raw amount; not zero.
    """
    access_control._check_role(freezes.COMPLIANCE_AGENT_ROLE, msg.sender)
    assert amount > 0, "token: amount is zero"
    code: uint8 = self._check_forced_receiver(receiver)
    sender_balance: uint256 = erc20.balanceOf[sender]
    if code == transfer_codes.OK and amount > sender_balance:
        code = transfer_codes.INSUFFICIENT_BALANCE
    self._require_ok(code)
    freezes._release(sender, amount)
    if compliance_profile != PROFILE_OPEN:
        extcall IIdentityRegistry(self.identity_registry).on_transfer(
            sender, receiver, amount, sender_balance, erc20.balanceOf[receiver], False
        )
    erc20._transfer(sender, receiver, amount)
    log ForcedTransfer(sender=sender, receiver=receiver, amount=amount, agent=msg.sender)


@external
def recover_wallet(lost_wallet: address, new_wallet: address):
    """
    @dev Moves the whole balance and freeze state of a lost wallet to its
         owner's new wallet. Only the compliance agent; unless the token
         is `open`, both wallets must belong to the same investor in the
         identity registry.
    @param lost_wallet The 20-byte address the investor lost.
    @param new_wallet The 20-byte address replacing it.
    """
    access_control._check_role(freezes.COMPLIANCE_AGENT_ROLE, msg.sender)
    assert new_wallet != lost_wallet, "token: wallets are the same"
    self._require_ok(self._check_forced_receiver(new_wallet))
    balance: uint256 = erc20.balanceOf[lost_wallet]
    assert balance > 0, "token: lost wallet holds no tokens"
    if compliance_profile != PROFILE_OPEN:
        registry: address = self.identity_registry
        investor: uint64 = staticcall IIdentityRegistry(registry).investor_of(lost_wallet)
        assert investor != 0, "token: lost wallet is not registered"
        assert staticcall IIdentityRegistry(registry).investor_of(new_wallet) == investor, "token: wallets belong to different investors"
        extcall IIdentityRegistry(registry).on_transfer(
            lost_wallet, new_wallet, balance, balance, erc20.balanceOf[new_wallet], False
        )
    freezes._move(lost_wallet, new_wallet)
    erc20._transfer(lost_wallet, new_wallet, balance)
    log WalletRecovered(lost_wallet=lost_wallet, new_wallet=new_wallet, amount=balance, agent=msg.sender)


@external
def pause():
    """
    @dev Stops every movement of tokens. Only a pauser.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._pause()


@external
def unpause():
    """
    @dev Lets tokens move again. Only a pauser.
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
    assert identity_registry != empty(address), "token: registry is the zero address"
    self.identity_registry = identity_registry
    log IdentityRegistrySet(identity_registry=identity_registry)


@external
def set_terms_uri(terms_uri: String[256]):
    """
    @dev Publishes where the token's terms are. Only the admin.
    @param terms_uri The new URI.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.terms_uri = terms_uri
    log TermsURISet(terms_uri=terms_uri)


@internal
def _checked_transfer(spender: address, sender: address, receiver: address, amount: uint256):
    sender_balance: uint256 = erc20.balanceOf[sender]
    code: uint8 = self._check_local(spender, sender, receiver, amount, sender_balance)
    if code == transfer_codes.OK and compliance_profile != PROFILE_OPEN:
        code = extcall IIdentityRegistry(self.identity_registry).on_transfer(
            sender, receiver, amount, sender_balance, erc20.balanceOf[receiver], True
        )
    self._require_ok(code)
    erc20._transfer(sender, receiver, amount)


@internal
@view
def _check(spender: address, sender: address, receiver: address, amount: uint256) -> uint8:
    sender_balance: uint256 = erc20.balanceOf[sender]
    code: uint8 = self._check_local(spender, sender, receiver, amount, sender_balance)
    if code == transfer_codes.OK and compliance_profile != PROFILE_OPEN:
        code = staticcall IIdentityRegistry(self.identity_registry).check_transfer(
            self, sender, receiver, amount, sender_balance, erc20.balanceOf[receiver]
        )
    return code


@internal
@view
def _check_local(
    spender: address, sender: address, receiver: address, amount: uint256, sender_balance: uint256
) -> uint8:
    # Cheapest checks first: every branch taken here saves an external call.
    if pausable.paused:
        return transfer_codes.PAUSED
    if receiver == empty(address):
        return transfer_codes.INVALID_RECEIVER
    sender_state: uint256 = freezes._state[sender]
    if freezes._is_frozen(sender_state):
        return transfer_codes.SENDER_FROZEN
    if freezes._is_frozen(freezes._state[receiver]):
        return transfer_codes.RECEIVER_FROZEN
    if amount > sender_balance:
        return transfer_codes.INSUFFICIENT_BALANCE
    if sender_balance - amount < freezes._frozen_amount(sender_state):
        return transfer_codes.AMOUNT_FROZEN
    if compliance_profile == PROFILE_RESTRICTED and not access_control.hasRole[OPERATOR_ROLE][spender]:
        return transfer_codes.NOT_OPERATOR
    sanctions: address = self.sanctions_list
    if sanctions != empty(address):
        if staticcall ISanctionsList(sanctions).isSanctioned(sender):
            return transfer_codes.SENDER_SANCTIONED
        if staticcall ISanctionsList(sanctions).isSanctioned(receiver):
            return transfer_codes.RECEIVER_SANCTIONED
        if spender != sender and staticcall ISanctionsList(sanctions).isSanctioned(spender):
            return transfer_codes.SPENDER_SANCTIONED
    return transfer_codes.OK


@internal
@view
def _check_receiver(receiver: address) -> uint8:
    if pausable.paused:
        return transfer_codes.PAUSED
    if receiver == empty(address):
        return transfer_codes.INVALID_RECEIVER
    if freezes._is_frozen(freezes._state[receiver]):
        return transfer_codes.RECEIVER_FROZEN
    if self._is_sanctioned(receiver):
        return transfer_codes.RECEIVER_SANCTIONED
    return transfer_codes.OK


@internal
@view
def _check_forced_receiver(receiver: address) -> uint8:
    if pausable.paused:
        return transfer_codes.PAUSED
    if receiver == empty(address):
        return transfer_codes.INVALID_RECEIVER
    if self._is_sanctioned(receiver):
        return transfer_codes.RECEIVER_SANCTIONED
    return transfer_codes.OK


@internal
def _checked_burn(owner: address, amount: uint256):
    assert amount > 0, "token: amount is zero"
    code: uint8 = transfer_codes.OK
    state: uint256 = freezes._state[owner]
    balance: uint256 = erc20.balanceOf[owner]
    if pausable.paused:
        code = transfer_codes.PAUSED
    elif freezes._is_frozen(state):
        code = transfer_codes.SENDER_FROZEN
    elif amount > balance:
        code = transfer_codes.INSUFFICIENT_BALANCE
    elif balance - amount < freezes._frozen_amount(state):
        code = transfer_codes.AMOUNT_FROZEN
    elif self._is_sanctioned(owner):
        code = transfer_codes.SENDER_SANCTIONED
    self._require_ok(code)
    if compliance_profile != PROFILE_OPEN:
        extcall IIdentityRegistry(self.identity_registry).on_transfer(owner, empty(address), amount, balance, 0, False)
    erc20._burn(owner, amount)


@internal
@view
def _is_sanctioned(account: address) -> bool:
    sanctions: address = self.sanctions_list
    return sanctions != empty(address) and staticcall ISanctionsList(sanctions).isSanctioned(account)


@internal
@pure
def _require_ok(code: uint8):
    # Revert with the same reason `can_transfer` gives, as Error(string).
    if code != transfer_codes.OK:
        raw_revert(abi_encode(transfer_codes._reason(code), method_id=method_id("Error(string)")))
