# pragma version ~=0.4.3
"""
@title Lock-ups per holder per issuance
@custom:contract-name lockups
@license GNU Affero General Public License v3.0 or later
@notice Each issuance to a holder with a lock-up end in the future adds a
        lot (amount, unlock_at) to that holder; a lot stops counting
        once its lock-up has ended:
        - `lots` (`external` `view` function),
        - `locked_balance` (`external` `view` function),
        - `locked_balance_at` (`external` `view` function).
        The deployable decides what may move; this module keeps the lots.

        Glossary, for a holder h at time t:
        - B(h)      the holder's balance (the ERC-20 balance);
        - lot i     (a_i, u_i): a_i raw units issued to h, locked until u_i;
        - L(h, t)   locked balance = sum of a_i over the lots with u_i > t;
        - U(h, t)   unlocked balance = B(h) - L(h, t).
        L(h, t) never grows with t, so U(h, t) never shrinks while B(h)
        stays the same: a lock-up only ever ends.
        Invariant (kept by the deployable): L(h, t) <= B(h) at every t.
        - an issuance with u > now adds a lot: B and L both grow by a;
        - a transfer out may take at most U(h, now): L is untouched;
        - tokens received by transfer are not locked (the lock-up binds
          the issuance, to the holder it was issued to);
        - a buyback of x takes U(h, now) first, then `_take_locked`
          removes the rest, x - U(h, now), from the lots that unlock
          last, so L shrinks by exactly max(0, x - U(h, now)).
        Lots whose lock-up has ended are pruned when a lot is added, so
        a holder has at most `MAX_LOTS` live lots; lots with the same end
        merge. A lot is one storage word: bits 0..191 the amount, 192..255
        the end, so reading a holder's lots costs one word per lot.
"""


# @dev The most live lots a holder may have (bounds every loop here).
MAX_LOTS: public(constant(uint256)) = 16


struct Lot:
    amount: uint256
    unlock_at: uint64


_AMOUNT_BITS: constant(uint256) = 192
_AMOUNT_MASK: constant(uint256) = (1 << _AMOUNT_BITS) - 1


_lots: HashMap[address, DynArray[uint256, MAX_LOTS]]


@external
@view
def lots(holder: address) -> DynArray[Lot, MAX_LOTS]:
    """
    @dev Returns `holder`'s lots, ended ones not yet pruned included.
    @param holder The 20-byte holder address.
    @return DynArray The lots (amount, unlock_at).
    """
    lots: DynArray[Lot, MAX_LOTS] = []
    for word: uint256 in self._lots[holder]:
        lots.append(Lot(amount=word & _AMOUNT_MASK, unlock_at=convert(word >> _AMOUNT_BITS, uint64)))
    return lots


@external
@view
def locked_balance(holder: address) -> uint256:
    """
    @dev Returns L(holder, now): the raw units still in lock-up.
    @param holder The 20-byte holder address.
    @return uint256 The locked raw amount.
    """
    return self._locked_at(holder, block.timestamp)


@external
@view
def locked_balance_at(holder: address, timestamp: uint256) -> uint256:
    """
    @dev Returns L(holder, timestamp), with the lots as they are now.
    @param holder The 20-byte holder address.
    @param timestamp The Unix time to evaluate at.
    @return uint256 The locked raw amount.
    """
    return self._locked_at(holder, timestamp)


@internal
@view
def _locked_at(holder: address, timestamp: uint256) -> uint256:
    locked: uint256 = 0
    for word: uint256 in self._lots[holder]:
        if word >> _AMOUNT_BITS > timestamp:
            locked += word & _AMOUNT_MASK
    return locked


@internal
def _add(holder: address, amount: uint256, unlock_at: uint64):
    # A lot that has already ended locks nothing: no lot at all.
    end: uint256 = convert(unlock_at, uint256)
    if end <= block.timestamp:
        return
    kept: DynArray[uint256, MAX_LOTS] = []
    merged: bool = False
    for word: uint256 in self._lots[holder]:
        if word >> _AMOUNT_BITS <= block.timestamp:
            continue
        if word >> _AMOUNT_BITS == end:
            total: uint256 = (word & _AMOUNT_MASK) + amount
            assert total <= _AMOUNT_MASK, "lockups: lot too large"
            kept.append(total | (end << _AMOUNT_BITS))
            merged = True
        else:
            kept.append(word)
    if not merged:
        assert len(kept) < MAX_LOTS, "lockups: holder has the max number of lock-up lots"
        assert amount <= _AMOUNT_MASK, "lockups: lot too large"
        kept.append(amount | (end << _AMOUNT_BITS))
    self._lots[holder] = kept


@internal
def _take_locked(holder: address, amount: uint256):
    # Removes `amount` from the live lots, those that unlock last first;
    # the caller has checked that `amount` <= L(holder, now).
    remaining: uint256 = amount
    lots: DynArray[uint256, MAX_LOTS] = self._lots[holder]
    for _: uint256 in range(MAX_LOTS):
        if remaining == 0:
            break
        latest: uint256 = max_value(uint256)
        latest_end: uint256 = 0
        for i: uint256 in range(len(lots), bound=MAX_LOTS):
            word: uint256 = lots[i]
            end: uint256 = word >> _AMOUNT_BITS
            if word & _AMOUNT_MASK == 0 or end <= block.timestamp:
                continue
            if end > latest_end:
                latest = i
                latest_end = end
        assert latest != max_value(uint256), "lockups: less locked than taken"
        taken: uint256 = min(remaining, lots[latest] & _AMOUNT_MASK)
        lots[latest] -= taken
        remaining -= taken
    assert remaining == 0, "lockups: less locked than taken"
    kept: DynArray[uint256, MAX_LOTS] = []
    for word: uint256 in lots:
        if word & _AMOUNT_MASK != 0 and word >> _AMOUNT_BITS > block.timestamp:
            kept.append(word)
    self._lots[holder] = kept


@internal
def _move(lost: address, new: address):
    # Carries `lost`'s live lots over to `new` (wallet recovery): the
    # shares keep their lock-ups, lots with the same end merge.
    kept: DynArray[uint256, MAX_LOTS] = []
    for word: uint256 in self._lots[new]:
        if word >> _AMOUNT_BITS > block.timestamp:
            kept.append(word)
    for word: uint256 in self._lots[lost]:
        end: uint256 = word >> _AMOUNT_BITS
        if end <= block.timestamp:
            continue
        merged: bool = False
        for i: uint256 in range(len(kept), bound=MAX_LOTS):
            if kept[i] >> _AMOUNT_BITS == end:
                total: uint256 = (kept[i] & _AMOUNT_MASK) + (word & _AMOUNT_MASK)
                assert total <= _AMOUNT_MASK, "lockups: lot too large"
                kept[i] = total | (end << _AMOUNT_BITS)
                merged = True
                break
        if not merged:
            assert len(kept) < MAX_LOTS, "lockups: holder has the max number of lock-up lots"
            kept.append(word)
    self._lots[new] = kept
    self._lots[lost] = []
