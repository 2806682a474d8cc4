# pragma version ~=0.4.3
"""
@title Liquidity vault of the perpetual futures markets
@custom:contract-name PerpVault
@license GNU Affero General Public License v3.0 or later
@notice One ERC-4626 vault over USDC (snekmate `erc4626`) is the
        counterparty of every position in every registered
        `PerpMarket` (gTrade's and Ostium's vault model): traders' losses,
        fees and liquidated margins flow in, their profits flow out.
        - LPs: `deposit`, `mint`, `withdraw`, `redeem` and the ERC-4626
          views; `withdraw`, `redeem`, `maxWithdraw` and `maxRedeem` are
          this contract's own: at most `free_assets()` can leave, the
          rest backs open positions' maximum profits;
        - markets (registered by the owner): `reserve`, `release`, `pay`;
        - governance (the owner, snekmate `ownable`): `add_market`,
          `remove_market`, `transfer_ownership`, `renounce_ownership`;
        - views: `reserved`, `free_assets`, `is_market`,
          `market_reserved`.

        Glossary:
        - A        `totalAssets()`, the vault's USDC balance (6 decimals);
        - R        `reserved`: the sum over registered markets of their
                   reservations; R_m the part of market m;
        - F        `free_assets()` = max(A - R, 0).
        Invariants:
        - A >= R: `reserve` refuses to take R above A ("vault:
          insufficient liquidity"), `pay` and LP withdrawals take at
          most F out of A, and `release` only lowers R;
        - R = sum of R_m, and a market releases at most its own R_m;
        - a market is removed only with R_m == 0.
        Shares carry 6 more decimals than USDC (decimals offset 6,
        OpenZeppelin's virtual shares), so a donation to an empty vault
        costs the donor a million times what it could take from the
        next depositor.
@custom:security `reserve`, `release` and `pay` are for registered
                 markets only; a market is trusted to reserve each
                 position's maximum profit and to release it before it
                 pays the position's profit. Every function that moves
                 USDC is `nonreentrant`.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC4626

from snekmate.auth import ownable
uses: ownable

from snekmate.tokens import erc20
uses: erc20

from snekmate.extensions import erc4626
initializes: erc4626



exports: (
    erc4626.totalSupply,
    erc4626.balanceOf,
    erc4626.transfer,
    erc4626.transferFrom,
    erc4626.approve,
    erc4626.allowance,
    erc4626.name,
    erc4626.symbol,
    erc4626.decimals,
    erc4626.permit,
    erc4626.nonces,
    erc4626.DOMAIN_SEPARATOR,
    erc4626.eip712Domain,
    erc4626.asset,
    erc4626.totalAssets,
    erc4626.convertToShares,
    erc4626.convertToAssets,
    erc4626.maxDeposit,
    erc4626.previewDeposit,
    erc4626.deposit,
    erc4626.maxMint,
    erc4626.previewMint,
    erc4626.mint,
    erc4626.previewWithdraw,
    erc4626.previewRedeem,
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


# @dev The share decimals above USDC's: virtual shares against donations.
DECIMALS_OFFSET: public(constant(uint8)) = 6


# @dev Returns the USDC reserved for open positions' maximum profits, R.
reserved: public(uint256)

# @dev Returns whether `market` may reserve, release and pay.
is_market: public(HashMap[address, bool])

# @dev Returns the part of `reserved` a market holds, R_m.
market_reserved: public(HashMap[address, uint256])


event MarketAdded:
    market: indexed(address)


event MarketRemoved:
    market: indexed(address)


event Reserved:
    market: indexed(address)
    amount: uint256
    reserved: uint256


event Released:
    market: indexed(address)
    amount: uint256
    reserved: uint256


event Paid:
    market: indexed(address)
    to: indexed(address)
    amount: uint256


@deploy
def __init__(usdc: IERC20):
    """
    @dev Deploys the vault over `usdc`; the deployer is the owner.
    @param usdc The settlement token (USDC, 6 decimals).
    """
    erc4626.__init__("Equitoken Perp LP", "eqPLP", usdc, DECIMALS_OFFSET, "Equitoken Perp LP", "1")


@external
@view
def free_assets() -> uint256:
    """
    @dev Returns the USDC that LPs may withdraw and markets may pay out:
         totalAssets less the reservations, never below 0.
    @return uint256 F, in USDC (6 decimals).
    """
    return self._free_assets()


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """
    @dev Returns the most `owner` can withdraw now: their shares'
         assets, at most the free assets.
    @param owner The share holder.
    @return uint256 USDC (6 decimals).
    """
    return min(erc4626._max_withdraw(owner), self._free_assets())


@external
@view
def maxRedeem(owner: address) -> uint256:
    """
    @dev Returns the most shares `owner` can redeem now: their balance,
         at most the shares the free assets buy back (rounded down).
    @param owner The share holder.
    @return uint256 Shares.
    """
    return self._max_redeem(owner)


@external
@nonreentrant
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @dev Burns the shares worth `assets` (rounded up) from `owner` and
         sends `assets` USDC to `receiver`. Reverts "vault: insufficient
         liquidity" above the free assets, and with snekmate's reason
         above the owner's shares.
    @param assets USDC to withdraw (6 decimals).
    @param receiver Who receives the USDC.
    @param owner Whose shares burn (the caller, or one who approved it).
    @return uint256 The shares burned.
    """
    assert assets <= self._free_assets(), "vault: insufficient liquidity"
    assert assets <= erc4626._max_withdraw(owner), "erc4626: withdraw more than maximum"
    shares: uint256 = erc4626._preview_withdraw(assets)
    erc4626._withdraw(msg.sender, receiver, owner, assets, shares)
    return shares


@external
@nonreentrant
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @dev Burns `shares` from `owner` and sends their assets (rounded
         down) to `receiver`. Reverts "vault: insufficient liquidity"
         when the assets exceed the free assets.
    @param shares Shares to burn.
    @param receiver Who receives the USDC.
    @param owner Whose shares burn (the caller, or one who approved it).
    @return uint256 The USDC sent.
    """
    assert shares <= erc20.balanceOf[owner], "erc4626: redeem more than maximum"
    assets: uint256 = erc4626._preview_redeem(shares)
    assert assets <= self._free_assets(), "vault: insufficient liquidity"
    erc4626._withdraw(msg.sender, receiver, owner, assets, shares)
    return assets


@external
def add_market(market: address):
    """
    @dev Registers `market` as one that may reserve, release and pay.
         Owner only.
    @param market A `PerpMarket` settling in this vault's asset.
    """
    ownable._check_owner()
    assert market != empty(address), "vault: zero market"
    assert not self.is_market[market], "vault: market already added"
    self.is_market[market] = True
    log MarketAdded(market=market)


@external
def remove_market(market: address):
    """
    @dev Deregisters `market`; it must hold no reservation. Owner only.
    @param market A registered market.
    """
    ownable._check_owner()
    assert self.is_market[market], "vault: not a market"
    assert self.market_reserved[market] == 0, "vault: market has reservations"
    self.is_market[market] = False
    log MarketRemoved(market=market)


@external
def reserve(amount: uint256):
    """
    @dev Reserves `amount` of the assets for the caller's positions'
         maximum profits. Markets only. Reverts "vault: insufficient
         liquidity" if the reservations would exceed totalAssets.
    @param amount USDC (6 decimals).
    """
    assert self.is_market[msg.sender], "vault: not a market"
    total: uint256 = self.reserved + amount
    assert total <= erc4626._total_assets(), "vault: insufficient liquidity"
    self.reserved = total
    self.market_reserved[msg.sender] += amount
    log Reserved(market=msg.sender, amount=amount, reserved=total)


@external
def release(amount: uint256):
    """
    @dev Releases `amount` of the caller's reservation. Markets only,
         at most what the caller reserved.
    @param amount USDC (6 decimals).
    """
    assert self.is_market[msg.sender], "vault: not a market"
    own: uint256 = self.market_reserved[msg.sender]
    assert amount <= own, "vault: release above reservation"
    self.market_reserved[msg.sender] = own - amount
    total: uint256 = self.reserved - amount
    self.reserved = total
    log Released(market=msg.sender, amount=amount, reserved=total)


@external
@nonreentrant
def pay(to: address, amount: uint256):
    """
    @dev Sends `amount` USDC to `to`: a trader's profit. Markets only,
         after they released the position's reservation; at most the
         free assets ("vault: insufficient liquidity").
    @param to The trader.
    @param amount USDC (6 decimals).
    """
    assert self.is_market[msg.sender], "vault: not a market"
    assert amount <= self._free_assets(), "vault: insufficient liquidity"
    assert extcall IERC20(erc4626.asset).transfer(to, amount, default_return_value=True), "vault: transfer failed"
    log Paid(market=msg.sender, to=to, amount=amount)


@internal
@view
def _free_assets() -> uint256:
    """
    @dev Returns max(totalAssets - reserved, 0).
    @return uint256 USDC (6 decimals).
    """
    assets: uint256 = erc4626._total_assets()
    held: uint256 = self.reserved
    if assets <= held:
        return 0
    return assets - held


@internal
@view
def _max_redeem(owner: address) -> uint256:
    """
    @dev Returns min(balance, shares worth the free assets, rounded down).
    @param owner The share holder.
    @return uint256 Shares.
    """
    return min(erc20.balanceOf[owner], erc4626._convert_to_shares(self._free_assets(), False))
