"""The private-company share token: issuance with lock-ups, transfers the agent approves or rejects,
buybacks, and every refusal leaving everything as it was."""

from typing import Any

import boa
import pytest
from tests.support.contracts import ONE_SHARE, actor, events
from tests.support.contracts.private import DAY, PRIVATE_TOKEN, PrivateWorld, deploy_private_world

ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def world() -> PrivateWorld:
    return deploy_private_world()


@pytest.fixture(scope="module")
def founder() -> str:
    return actor("founder")


@pytest.fixture(scope="module")
def buyer() -> str:
    return actor("buyer")


@pytest.fixture
def funded(world: PrivateWorld, founder: str, buyer: str) -> PrivateWorld:
    """The founder holds 100 unlocked shares; founder and buyer are accredited investors."""
    world.register(1, founder)
    world.register(2, buyer)
    world.issue(founder, 100 * ONE_SHARE)
    return world


def now() -> int:
    timestamp: int = boa.env.evm.patch.timestamp
    return timestamp


def refused(world: PrivateWorld, reason: str, call: Any, *accounts: str) -> None:
    """Run `call`, which must revert with `reason`, and check it changed nothing."""
    before = world.snapshot(*accounts)
    with boa.reverts(reason):
        call()
    assert world.snapshot(*accounts) == before


# --- deployment ------------------------------------------------------------


def test_deployment_metadata_and_refusals(world: PrivateWorld) -> None:
    token = world.token
    assert (token.name(), token.symbol(), token.isin(), token.decimals()) == (
        "Acme Robotics Inc. common stock",
        "ACME",
        "",
        8,
    )
    assert token.valuation_feed() == world.valuation.address
    args = ["n", "S", 8, "", "uri", world.sanctions.address, world.registry.address, ZERO]
    with boa.reverts("private: an ISIN has 12 characters"):
        PRIVATE_TOKEN.deploy(*args[:3], "US123", *args[4:])
    with boa.reverts("private: registry is the zero address"):
        PRIVATE_TOKEN.deploy(*args[:6], ZERO, ZERO)


def test_no_free_transfer_functions(world: PrivateWorld) -> None:
    for name in ("transfer", "transferFrom", "approve", "permit"):
        assert not hasattr(world.token, name)


# --- issuance --------------------------------------------------------------


def test_issue_with_a_lockup_adds_a_lot(world: PrivateWorld, founder: str) -> None:
    world.register(1, founder)
    unlock = now() + 180 * DAY
    with boa.env.prank(world.issuer):
        world.token.issue(founder, 10 * ONE_SHARE, unlock, 7)
    assert (
        "Issued",
        {
            "holder": founder,
            "amount": 10 * ONE_SHARE,
            "unlock_at": unlock,
            "round_id": 7,
            "issuer": world.issuer,
        },
    ) in events(world.token)
    assert world.token.balanceOf(founder) == 10 * ONE_SHARE
    assert world.token.locked_balance(founder) == 10 * ONE_SHARE
    assert world.token.unlocked_balance(founder) == 0
    assert [tuple(lot) for lot in world.token.lots(founder)] == [(10 * ONE_SHARE, unlock)]
    assert world.registry.holder_count(world.token.address) == 1
    boa.env.time_travel(seconds=180 * DAY)
    assert world.token.locked_balance(founder) == 0
    assert world.token.unlocked_balance(founder) == 10 * ONE_SHARE


def test_same_unlock_merges_and_ended_lots_are_pruned(world: PrivateWorld, founder: str) -> None:
    world.register(1, founder)
    first, second = now() + 10 * DAY, now() + 20 * DAY
    world.issue(founder, 1, first)
    world.issue(founder, 2, first)
    world.issue(founder, 4, second)
    assert [tuple(lot) for lot in world.token.lots(founder)] == [(3, first), (4, second)]
    assert world.token.locked_balance_at(founder, first - 1) == 7
    assert world.token.locked_balance_at(founder, first) == 4
    boa.env.time_travel(seconds=10 * DAY)
    world.issue(founder, 8, second + 1)
    assert [tuple(lot) for lot in world.token.lots(founder)] == [(4, second), (8, second + 1)]


def test_a_holder_has_at_most_max_lots(world: PrivateWorld, founder: str) -> None:
    world.register(1, founder)
    limit = world.token.MAX_LOTS()
    for i in range(limit):
        world.issue(founder, 1, now() + DAY + i)
    refused(
        world,
        "lockups: holder has the max number of lock-up lots",
        lambda: world.issue(founder, 1, now() + 2 * DAY),
        founder,
    )
    world.issue(founder, 1, now() + DAY)  # an existing end merges


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unverified", "receiver is not a verified investor"),
        ("not_accredited", "receiver is not accredited"),
        ("kyc_expired", "receiver's KYC has expired"),
        ("investor_frozen", "receiver is frozen"),
        ("address_frozen", "receiver is frozen"),
        ("sanctioned", "receiver is sanctioned"),
        ("paused", "token is paused"),
        ("zero", "receiver is the zero address"),
        ("amount_zero", "private: amount is zero"),
        ("round_zero", "private: round id is zero"),
        ("not_issuer", "access_control: account is missing role"),
        ("unbound", "token is not bound to the registry"),
    ],
)
def test_issue_refusals_change_nothing(world: PrivateWorld, founder: str, case: str, reason: str) -> None:
    holder, amount, round_id, caller = founder, ONE_SHARE, 1, world.issuer
    if case != "unverified":
        world.register(
            1, founder, accredited=case != "not_accredited", kyc_days=-1 if case == "kyc_expired" else 30
        )
    if case == "investor_frozen":
        with boa.env.prank(world.registrar):
            world.registry.set_investor_frozen(1, True)
    elif case == "address_frozen":
        with boa.env.prank(world.compliance):
            world.token.set_address_frozen(founder, True)
    elif case == "sanctioned":
        world.sanction(founder)
    elif case == "paused":
        with boa.env.prank(world.pauser):
            world.token.pause()
    elif case == "zero":
        holder = ZERO
    elif case == "amount_zero":
        amount = 0
    elif case == "round_zero":
        round_id = 0
    elif case == "not_issuer":
        caller = world.agent
    elif case == "unbound":
        with boa.env.prank(world.registrar):
            world.registry.unbind_token(world.token.address)

    def call() -> None:
        with boa.env.prank(caller):
            world.token.issue(holder, amount, now() + DAY, round_id)

    refused(world, reason, call, founder)


# --- requests, approval, rejection, cancellation ---------------------------


def test_request_then_approve_moves_the_tokens(funded: PrivateWorld, founder: str, buyer: str) -> None:
    token = funded.token
    request_id = funded.request(founder, buyer, 30 * ONE_SHARE)
    assert request_id == 1
    assert events(token) == [
        (
            "TransferRequested",
            {"request_id": 1, "sender": founder, "receiver": buyer, "amount": 30 * ONE_SHARE},
        )
    ]
    # Reserved, not escrowed: the balance stays, the reservation shows.
    assert token.balanceOf(founder) == 100 * ONE_SHARE
    assert token.pending_out(founder) == 30 * ONE_SHARE
    assert token.check_request(1) == (0, "transfer allowed")
    requested = now()
    boa.env.time_travel(seconds=60)
    funded.approve(1)
    assert (
        "TransferApproved",
        {
            "request_id": 1,
            "sender": founder,
            "receiver": buyer,
            "amount": 30 * ONE_SHARE,
            "agent": funded.agent,
        },
    ) in events(token)
    assert token.balanceOf(founder) == 70 * ONE_SHARE
    assert token.balanceOf(buyer) == 30 * ONE_SHARE
    assert token.pending_out(founder) == 0
    assert tuple(token.request(1)) == (
        founder,
        buyer,
        30 * ONE_SHARE,
        token.APPROVED(),
        requested,
        requested + 60,
    )
    assert funded.registry.holder_count(token.address) == 2


def test_reject_with_a_reason_releases_the_reservation(
    funded: PrivateWorld, founder: str, buyer: str
) -> None:
    token = funded.token
    funded.request(founder, buyer, 30 * ONE_SHARE)
    funded.reject(1, "right of first refusal exercised by the company")
    assert events(token) == [
        (
            "TransferRejected",
            {
                "request_id": 1,
                "sender": founder,
                "receiver": buyer,
                "amount": 30 * ONE_SHARE,
                "reason": "right of first refusal exercised by the company",
                "agent": funded.agent,
            },
        )
    ]
    assert token.request(1).status == token.REJECTED()
    assert token.pending_out(founder) == 0
    assert token.balanceOf(founder) == 100 * ONE_SHARE


def test_requester_cancels(funded: PrivateWorld, founder: str, buyer: str) -> None:
    funded.request(founder, buyer, 30 * ONE_SHARE)
    refused(
        funded,
        "private: only the requester may cancel",
        lambda: _as(buyer, lambda: funded.token.cancel_transfer(1)),
        founder,
    )
    with boa.env.prank(founder):
        funded.token.cancel_transfer(1)
    assert events(funded.token) == [
        ("TransferCancelled", {"request_id": 1, "sender": founder, "amount": 30 * ONE_SHARE})
    ]
    assert funded.token.request(1).status == funded.token.CANCELLED()
    assert funded.token.pending_out(founder) == 0


def _as(who: str, call: Any) -> Any:
    with boa.env.prank(who):
        return call()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("zero_amount", "private: amount is zero"),
        ("self", "private: receiver is the sender"),
        ("zero_receiver", "receiver is the zero address"),
        ("paused", "token is paused"),
        ("frozen", "sender is frozen"),
        ("balance", "amount exceeds the balance"),
        ("reserved", "amount exceeds the balance not under request"),
    ],
)
def test_request_refusals_change_nothing(
    funded: PrivateWorld, founder: str, buyer: str, case: str, reason: str
) -> None:
    receiver, amount = buyer, ONE_SHARE
    if case == "zero_amount":
        amount = 0
    elif case == "self":
        receiver = founder
    elif case == "zero_receiver":
        receiver = ZERO
    elif case == "paused":
        _as(funded.pauser, funded.token.pause)
    elif case == "frozen":
        _as(funded.compliance, lambda: funded.token.set_address_frozen(founder, True))
    elif case == "balance":
        amount = 101 * ONE_SHARE
    elif case == "reserved":
        funded.request(founder, buyer, 60 * ONE_SHARE)
        amount = 41 * ONE_SHARE
    refused(funded, reason, lambda: funded.request(founder, receiver, amount), founder, buyer)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("paused", "token is paused"),
        ("sender_frozen", "sender is frozen"),
        ("sender_investor_frozen", "sender is frozen"),
        ("receiver_frozen", "receiver is frozen"),
        ("partly_frozen", "amount exceeds the unfrozen balance"),
        ("sender_sanctioned", "sender is sanctioned"),
        ("receiver_sanctioned", "receiver is sanctioned"),
        ("unverified", "receiver is not a verified investor"),
        ("not_accredited", "receiver is not accredited"),
        ("kyc_expired", "receiver's KYC has expired"),
        ("country", "receiver's country is not allowed"),
        ("max_holders", "token has reached its max holders"),
        ("not_agent", "access_control: account is missing role"),
    ],
)
def test_approval_refusals_change_nothing(
    funded: PrivateWorld, founder: str, buyer: str, case: str, reason: str
) -> None:
    token, registry = funded.token, funded.registry
    outsider = actor("outsider")
    receiver = buyer
    if case in ("unverified", "not_accredited", "kyc_expired"):
        receiver = outsider
        if case != "unverified":
            funded.register(3, outsider, accredited=case != "not_accredited", kyc_days=30)
    funded.request(founder, receiver, 50 * ONE_SHARE)
    caller = funded.agent
    if case == "paused":
        _as(funded.pauser, token.pause)
    elif case == "sender_frozen":
        _as(funded.compliance, lambda: token.set_address_frozen(founder, True))
    elif case == "sender_investor_frozen":
        _as(funded.registrar, lambda: registry.set_investor_frozen(1, True))
    elif case == "receiver_frozen":
        _as(funded.compliance, lambda: token.set_address_frozen(buyer, True))
    elif case == "partly_frozen":
        _as(funded.compliance, lambda: token.freeze_partial_tokens(founder, 60 * ONE_SHARE))
    elif case == "sender_sanctioned":
        funded.sanction(founder)
    elif case == "receiver_sanctioned":
        funded.sanction(buyer)
    elif case == "kyc_expired":
        boa.env.time_travel(seconds=31 * DAY)
    elif case == "country":
        _as(funded.registrar, lambda: registry.set_token_rules(token.address, True, False, 0, 0, 0))
    elif case == "max_holders":
        _as(funded.registrar, lambda: registry.set_token_rules(token.address, False, False, 0, 1, 0))
    elif case == "not_agent":
        caller = funded.issuer
    if case != "not_agent":
        assert token.check_request(1)[1] == reason
    refused(funded, reason, lambda: _as(caller, lambda: token.approve_transfer(1)), founder, receiver)


def test_lockup_is_checked_at_approval(funded: PrivateWorld, founder: str, buyer: str) -> None:
    token = funded.token
    unlock = now() + 90 * DAY
    funded.issue(founder, 50 * ONE_SHARE, unlock, round_id=2)
    # 150 held, 50 locked: a request of 120 is filed, waits for the lock-up.
    funded.request(founder, buyer, 120 * ONE_SHARE)
    assert token.check_request(1) == (17, "token is in its lock-up period")
    refused(funded, "token is in its lock-up period", lambda: funded.approve(1), founder, buyer)
    boa.env.time_travel(seconds=90 * DAY - 1)
    refused(funded, "token is in its lock-up period", lambda: funded.approve(1), founder, buyer)
    boa.env.time_travel(seconds=1)
    funded.approve(1)
    assert token.balanceOf(buyer) == 120 * ONE_SHARE


def test_two_requests_within_the_unlocked_balance_only_one_by_one(
    funded: PrivateWorld, founder: str, buyer: str
) -> None:
    funded.issue(founder, 100 * ONE_SHARE, now() + DAY, round_id=2)
    funded.request(founder, buyer, 80 * ONE_SHARE)
    funded.request(founder, buyer, 80 * ONE_SHARE)
    funded.approve(2)
    refused(funded, "token is in its lock-up period", lambda: funded.approve(1), founder, buyer)
    funded.reject(1, "lock-up")


@pytest.mark.parametrize("status", ["approved", "rejected", "cancelled", "missing"])
def test_decided_or_missing_requests_cannot_be_decided_again(
    funded: PrivateWorld, founder: str, buyer: str, status: str
) -> None:
    if status != "missing":
        funded.request(founder, buyer, ONE_SHARE)
    if status == "approved":
        funded.approve(1)
    elif status == "rejected":
        funded.reject(1, "no")
    elif status == "cancelled":
        _as(founder, lambda: funded.token.cancel_transfer(1))
    reason = "private: no such request" if status == "missing" else "private: request is not pending"
    refused(funded, reason, lambda: funded.approve(1), founder, buyer)
    refused(funded, reason, lambda: funded.reject(1, "again"), founder, buyer)
    refused(funded, reason, lambda: _as(founder, lambda: funded.token.cancel_transfer(1)), founder, buyer)
    with boa.reverts(reason):
        funded.token.check_request(1)


def test_rejection_refusals_change_nothing(funded: PrivateWorld, founder: str, buyer: str) -> None:
    funded.request(founder, buyer, ONE_SHARE)
    refused(funded, "private: a rejection needs a reason", lambda: funded.reject(1, ""), founder)
    refused(
        funded,
        "access_control: account is missing role",
        lambda: _as(founder, lambda: funded.token.reject_transfer(1, "mine")),
        founder,
    )
    # A pause does not stop a rejection: it only releases a reservation.
    _as(funded.pauser, funded.token.pause)
    funded.reject(1, "paused for a corporate event")
    assert funded.token.pending_out(founder) == 0


# --- buyback ---------------------------------------------------------------


def test_buyback_takes_unlocked_first_then_the_latest_lockup(funded: PrivateWorld, founder: str) -> None:
    token = funded.token
    early, late = now() + 30 * DAY, now() + 60 * DAY
    funded.issue(founder, 10 * ONE_SHARE, early, round_id=2)
    funded.issue(founder, 20 * ONE_SHARE, late, round_id=3)
    # 130 held: 100 unlocked, 30 locked. Buying back 115 takes 100 + 15 of the late lot.
    _as(funded.issuer, lambda: token.buy_back(founder, 115 * ONE_SHARE))
    assert (
        "BoughtBack",
        {
            "holder": founder,
            "amount": 115 * ONE_SHARE,
            "locked_taken": 15 * ONE_SHARE,
            "issuer": funded.issuer,
        },
    ) in events(token)
    assert token.balanceOf(founder) == 15 * ONE_SHARE
    assert [tuple(lot) for lot in token.lots(founder)] == [(10 * ONE_SHARE, early), (5 * ONE_SHARE, late)]
    assert token.totalSupply() == 15 * ONE_SHARE
    _as(funded.issuer, lambda: token.buy_back(founder, 15 * ONE_SHARE))
    assert token.lots(founder) == []
    assert funded.registry.holder_count(token.address) == 0


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("zero", "private: amount is zero"),
        ("balance", "amount exceeds the balance"),
        ("reserved", "amount exceeds the balance not under request"),
        ("frozen", "sender is frozen"),
        ("partly_frozen", "amount exceeds the unfrozen balance"),
        ("sanctioned", "sender is sanctioned"),
        ("paused", "token is paused"),
        ("not_issuer", "access_control: account is missing role"),
    ],
)
def test_buyback_refusals_change_nothing(
    funded: PrivateWorld, founder: str, buyer: str, case: str, reason: str
) -> None:
    token = funded.token
    amount, caller = 50 * ONE_SHARE, funded.issuer
    if case == "zero":
        amount = 0
    elif case == "balance":
        amount = 101 * ONE_SHARE
    elif case == "reserved":
        funded.request(founder, buyer, 60 * ONE_SHARE)
    elif case == "frozen":
        _as(funded.compliance, lambda: token.set_address_frozen(founder, True))
    elif case == "partly_frozen":
        _as(funded.compliance, lambda: token.freeze_partial_tokens(founder, 60 * ONE_SHARE))
    elif case == "sanctioned":
        funded.sanction(founder)
    elif case == "paused":
        _as(funded.pauser, token.pause)
    elif case == "not_issuer":
        caller = funded.agent
    refused(funded, reason, lambda: _as(caller, lambda: token.buy_back(founder, amount)), founder, buyer)


# --- admin -----------------------------------------------------------------


def test_admin_setters_and_their_refusals(funded: PrivateWorld, founder: str) -> None:
    token = funded.token
    feed = actor("another-feed")
    _as(funded.admin, lambda: token.set_valuation_feed(feed))
    assert events(token) == [("ValuationFeedSet", {"valuation_feed": feed})]
    assert token.valuation_feed() == feed
    with boa.reverts("private: feed is the zero address"):
        _as(funded.admin, lambda: token.set_valuation_feed(ZERO))
    with boa.reverts("private: registry is the zero address"):
        _as(funded.admin, lambda: token.set_identity_registry(ZERO))
    for call in (
        lambda: token.set_valuation_feed(founder),
        lambda: token.set_identity_registry(founder),
        lambda: token.set_sanctions_list(ZERO),
        lambda: token.set_terms_uri("x"),
        token.pause,
    ):
        with boa.reverts("access_control: account is missing role"):
            _as(founder, call)
    assert (token.valuation_feed(), token.identity_registry(), token.sanctions_list(), token.paused()) == (
        feed,
        funded.registry.address,
        funded.sanctions.address,
        False,
    )


def test_admin_setters_emit_their_events(funded: PrivateWorld) -> None:
    token, admin = funded.token, funded.admin
    registry = actor("another-registry")
    _as(admin, lambda: token.set_sanctions_list(ZERO))
    assert events(token) == [("SanctionsListSet", {"sanctions_list": ZERO})]
    _as(admin, lambda: token.set_identity_registry(registry))
    assert events(token) == [("IdentityRegistrySet", {"identity_registry": registry})]
    _as(admin, lambda: token.set_terms_uri("ipfs://terms"))
    assert events(token) == [("TermsURISet", {"terms_uri": "ipfs://terms"})]
    assert (token.sanctions_list(), token.identity_registry(), token.terms_uri()) == (
        ZERO,
        registry,
        "ipfs://terms",
    )


def test_ownership_moves_in_two_steps_with_the_admin_role(funded: PrivateWorld, founder: str) -> None:
    token, admin = funded.token, funded.admin
    successor = actor("successor")
    admin_role = token.DEFAULT_ADMIN_ROLE()
    _as(admin, lambda: token.transfer_ownership(successor))
    with boa.reverts("ownable_2step: caller is not the new owner"):
        _as(founder, token.accept_ownership)
    assert token.hasRole(admin_role, admin)
    _as(successor, token.accept_ownership)
    assert (token.owner(), token.hasRole(admin_role, successor), token.hasRole(admin_role, admin)) == (
        successor,
        True,
        False,
    )
    # The admin role itself moves only this way: nobody may grant it.
    with boa.reverts("access_control: account is missing role"):
        _as(successor, lambda: token.grantRole(admin_role, founder))


def test_pause_stops_requests_but_not_cancellations(funded: PrivateWorld, founder: str, buyer: str) -> None:
    token = funded.token
    funded.request(founder, buyer, ONE_SHARE)
    _as(funded.pauser, token.pause)
    assert token.paused()
    assert token.check_request(1) == (1, "token is paused")
    _as(founder, lambda: token.cancel_transfer(1))
    assert token.pending_out(founder) == 0
    _as(funded.pauser, token.unpause)
    assert not token.paused()
    assert funded.request(founder, buyer, ONE_SHARE) == 2


# --- wallet recovery -------------------------------------------------------


def test_recovery_moves_shares_lockups_and_freezes_to_the_new_wallet(
    funded: PrivateWorld, founder: str
) -> None:
    token = funded.token
    new_wallet = actor("founder-new")
    with boa.env.prank(funded.registrar):
        funded.registry.add_wallet(1, new_wallet)
    unlock = now() + 30 * DAY
    funded.issue(founder, 20 * ONE_SHARE, unlock, round_id=2)
    _as(funded.compliance, lambda: token.freeze_partial_tokens(founder, 5 * ONE_SHARE))
    holders = funded.registry.holder_count(token.address)
    _as(funded.compliance, lambda: token.recover_wallet(founder, new_wallet))
    assert (
        "WalletRecovered",
        {
            "lost_wallet": founder,
            "new_wallet": new_wallet,
            "amount": 120 * ONE_SHARE,
            "agent": funded.compliance,
        },
    ) in events(token)
    assert (token.balanceOf(founder), token.balanceOf(new_wallet)) == (0, 120 * ONE_SHARE)
    assert token.lots(founder) == []
    assert [tuple(lot) for lot in token.lots(new_wallet)] == [(20 * ONE_SHARE, unlock)]
    assert (token.frozen_tokens(founder), token.frozen_tokens(new_wallet)) == (0, 5 * ONE_SHARE)
    assert token.unlocked_balance(new_wallet) == 100 * ONE_SHARE
    assert funded.registry.holder_count(token.address) == holders


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not_agent", "access_control: account is missing role"),
        ("same", "private: wallets are the same"),
        ("paused", "token is paused"),
        ("zero", "receiver is the zero address"),
        ("sanctioned", "receiver is sanctioned"),
        ("empty", "private: lost wallet holds no shares"),
        ("pending", "private: lost wallet has pending requests"),
        ("unregistered", "private: lost wallet is not registered"),
        ("other_investor", "private: wallets belong to different investors"),
    ],
)
def test_recovery_refusals_change_nothing(
    funded: PrivateWorld, founder: str, buyer: str, case: str, reason: str
) -> None:
    token = funded.token
    lost, new_wallet, caller = founder, actor("founder-new"), funded.compliance
    with boa.env.prank(funded.registrar):
        funded.registry.add_wallet(1, new_wallet)
    if case == "not_agent":
        caller = funded.agent
    elif case == "same":
        new_wallet = founder
    elif case == "paused":
        _as(funded.pauser, token.pause)
    elif case == "zero":
        new_wallet = ZERO
    elif case == "sanctioned":
        funded.sanction(new_wallet)
    elif case == "empty":
        lost = buyer
    elif case == "pending":
        funded.request(founder, buyer, ONE_SHARE)
    elif case == "unregistered":
        with boa.env.prank(funded.registrar):  # the shares stay where they were issued
            funded.registry.remove_wallet(founder)
    elif case == "other_investor":
        new_wallet = buyer
    refused(
        funded,
        reason,
        lambda: _as(caller, lambda: token.recover_wallet(lost, new_wallet)),
        founder,
        buyer,
        new_wallet,
    )


def test_recovery_merges_lots_that_end_together(funded: PrivateWorld, founder: str) -> None:
    token = funded.token
    new_wallet = actor("founder-new")
    with boa.env.prank(funded.registrar):
        funded.registry.add_wallet(1, new_wallet)
    same, later = now() + 10 * DAY, now() + 20 * DAY
    funded.issue(founder, 3, same, round_id=2)
    funded.issue(new_wallet, 4, same, round_id=2)
    funded.issue(new_wallet, 5, later, round_id=3)
    _as(funded.compliance, lambda: token.recover_wallet(founder, new_wallet))
    assert [tuple(lot) for lot in token.lots(new_wallet)] == [(7, same), (5, later)]
    assert token.locked_balance(new_wallet) == 12
