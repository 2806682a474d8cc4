# pragma version ~=0.4.3
"""
@title Upper median of a few values
@custom:contract-name median
@license GNU Affero General Public License v3.0 or later
@notice Pure helpers for the price feed's aggregation; no storage, so a
        module imports this one without `uses:` or `initializes:`.
"""

# Glossary
#   v_0 .. v_(n-1)   the values, in any order, 1 <= n <= MAX_VALUES.
#   s_0 <= .. <= s_(n-1)   the same values sorted ascending.
#   upper median     s_(n // 2): the middle value for odd n, the upper
#                    of the two middle values for even n.
#
# Invariant: if at most f of the values are arbitrary and n >= 2f + 1,
# the upper median lies between the smallest and the largest of the
# other n - f values (f < n // 2 + 1 and f <= n - 1 - n // 2, so at
# least one honest value sits on each side of s_(n // 2)).


# @dev The most values a median is taken over (the reporter limit).
MAX_VALUES: constant(uint256) = 16


@internal
@pure
def _upper_median(values: DynArray[uint256, MAX_VALUES]) -> uint256:
    """
    @dev Returns `sorted(values)[len(values) // 2]`. Reverts on an
         empty array. An insertion sort in memory: for at most 16
         values it is cheaper than any selection algorithm's overhead.
    """
    count: uint256 = len(values)
    assert count != 0, "median: no values"
    ordered: DynArray[uint256, MAX_VALUES] = values
    for i: uint256 in range(1, count, bound=MAX_VALUES):
        value: uint256 = ordered[i]
        j: uint256 = i
        for _: uint256 in range(MAX_VALUES):
            if j == 0 or ordered[j - 1] <= value:
                break
            ordered[j] = ordered[j - 1]
            j -= 1
        ordered[j] = value
    return ordered[count // 2]
