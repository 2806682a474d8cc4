# pragma version ~=0.4.3
"""
@title Issuer valuation feed of a private company's shares
@custom:contract-name ValuationFeed
@license GNU Affero General Public License v3.0 or later
@notice The price per share the issuer last determined (a 409A
        appraisal, a priced round, a tender offer, a board
        determination), not a market price: nobody quotes these shares.
        Read through Chainlink's `AggregatorV3Interface`, where a round's
        `startedAt` is the valuation's as-of time and `updatedAt` when it
        was recorded, so a consumer sees the valuation's age as
        `block.timestamp - startedAt`:
        - `decimals`, `description`, `version`, `latestRoundData`,
          `getRoundData` (`external` `view` functions),
        - `PRICE_KIND` ("issuer valuation"), `is_market_price` (False)
          (`external` `view` functions): the mark for consumers;
        - `valuation`, `latest_valuation` (`external` `view` functions,
          `IValuationFeed`):
          a round with its method and source note;
        - `record_valuation` (`external` function, `UPDATER_ROLE`, the
          issuer);
        - `max_report_age`, `set_bounds` and the access-control functions.
        Bounds, on purpose unlike a market feed's: no move bound (a down
        round or an up round may move the price by any amount), no
        minimum interval, and an as-of time at most `max_report_age`
        (default 400 days) before it is recorded: a 409A is valid for a
        year, older appraisals are not a valuation worth publishing.
        As-of times never go back (a correction may share the last one).
"""


from ..interfaces import IAggregatorV3
from ..interfaces import IValuationFeed
implements: IAggregatorV3
implements: IValuationFeed

from snekmate.auth import access_control
initializes: access_control
exports: access_control.__interface__

from . import feed
initializes: feed[access_control := access_control]
exports: (
    feed.decimals,
    feed.description,
    feed.version,
    feed.latestRoundData,
    feed.getRoundData,
    feed.max_report_age,
    feed.set_bounds,
    feed.UPDATER_ROLE,
)


# @dev What a round of this feed is: never a market price.
PRICE_KIND: public(constant(String[32])) = "issuer valuation"

# @dev Valuation methods.
METHOD_409A: public(constant(uint8)) = 1
METHOD_PRICED_ROUND: public(constant(uint8)) = 2
METHOD_TENDER_OFFER: public(constant(uint8)) = 3
METHOD_BOARD: public(constant(uint8)) = 4

_DEFAULT_MAX_MOVE_BPS: constant(uint256) = 0
_DEFAULT_MAX_REPORT_AGE: constant(uint256) = 400 * 86_400
_DEFAULT_MIN_INTERVAL: constant(uint256) = 0
_NO_STATUS: constant(uint8) = 0
_NO_DEVIATION_WAIVER: constant(uint256) = 0


_methods: HashMap[uint256, uint8]
_sources: HashMap[uint256, String[128]]


event ValuationRecorded:
    round_id: indexed(uint256)
    price: uint256
    as_of: uint256
    method: uint8
    source: String[128]
    issuer: indexed(address)


@deploy
def __init__(decimals_: uint8, description_: String[64]):
    """
    @dev The deployer gets `DEFAULT_ADMIN_ROLE` and must grant
         `UPDATER_ROLE` to the issuer.
    @param decimals_ The decimals of the price, e.g. 8.
    @param description_ The description, e.g. "ACME / USD (issuer valuation)".
    """
    access_control.__init__()
    feed.__init__(decimals_, description_, _DEFAULT_MAX_MOVE_BPS, _DEFAULT_MAX_REPORT_AGE, _DEFAULT_MIN_INTERVAL)


@external
@view
def is_market_price() -> bool:
    """
    @dev Returns False: this feed's answers are issuer valuations.
    @return bool False.
    """
    return False


@external
def record_valuation(price: uint256, as_of: uint256, method: uint8, source: String[128]) -> uint256:
    """
    @dev Records a valuation as a new round. Only `UPDATER_ROLE`.
    @param price The price per share in the feed's decimals; not zero.
    @param as_of When the valuation is as of (Unix seconds); not in the
           future, not before the latest one, at most `max_report_age` ago.
    @param method One of the METHOD_* constants.
    @param source What it rests on, e.g. the appraiser's report; not empty.
    @return uint256 The new round id.
    """
    access_control._check_role(feed.UPDATER_ROLE, msg.sender)
    assert price > 0, "valuation: price is zero"
    assert method >= METHOD_409A and method <= METHOD_BOARD, "valuation: unknown method"
    assert len(source) > 0, "valuation: source is empty"
    assert price <= convert(max_value(int128), uint256), "valuation: price too large"
    round_id: uint256 = feed._update(convert(price, int256), as_of, _NO_STATUS, True, _NO_DEVIATION_WAIVER)
    self._methods[round_id] = method
    self._sources[round_id] = source
    log ValuationRecorded(round_id=round_id, price=price, as_of=as_of, method=method, source=source, issuer=msg.sender)
    return round_id


@external
@view
def valuation(round_id: uint256) -> IValuationFeed.Valuation:
    """
    @dev Returns a recorded valuation. Reverts if there is none.
    @param round_id The round id, from 1 to the latest.
    @return Valuation Price, as-of and recording times, method, source.
    """
    return self._valuation(round_id)


@external
@view
def latest_valuation() -> IValuationFeed.Valuation:
    """
    @dev Returns the latest valuation. Reverts before the first.
    @return Valuation Price, as-of and recording times, method, source.
    """
    word: uint256 = feed._latest
    assert word != 0, "feed: no data"
    return self._valuation(feed._round_of(word))


@internal
@view
def _valuation(round_id: uint256) -> IValuationFeed.Valuation:
    word: uint256 = feed._round_word(round_id)
    return IValuationFeed.Valuation(
        round_id=round_id,
        price=feed._answer_of(word),
        as_of=feed._started_at(word),
        recorded_at=feed._updated_at(word),
        method=self._methods[round_id],
        source=self._sources[round_id],
    )
