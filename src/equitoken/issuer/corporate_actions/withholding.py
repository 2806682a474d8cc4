"""US withholding tax on dividends paid to non-US holders: 30% by default, 15% under a tax treaty.

The treaty table lists the jurisdictions whose income-tax treaty with the United States caps the
tax on portfolio dividends (a holding under 10% of the company) at 15%, after IRS Publication 515,
Tax Treaty Table 1. Countries whose treaty rate is lower (e.g. Japan and Mexico, 10%) or higher, or
with no treaty in force, get the 30% default: the model never refunds more than a treaty grants.
An investor's jurisdiction is the one recorded at onboarding; a wallet that belongs to no onboarded
investor is taxed at the default rate.
"""

DEFAULT_WITHHOLDING_BPS = 3_000
TREATY_WITHHOLDING_BPS = 1_500

TREATY_JURISDICTIONS = frozenset(
    {
        "AT", "AU", "BE", "CA", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "IE",
        "IS", "IT", "KR", "LT", "LU", "LV", "NL", "NO", "NZ", "PL", "PT", "SE", "SI", "SK", "ZA",
    }
)  # fmt: skip


def withholding_bps(jurisdiction: str | None) -> int:
    """Return the withholding rate in basis points for a holder in `jurisdiction` (None: unknown)."""
    if jurisdiction in TREATY_JURISDICTIONS:
        return TREATY_WITHHOLDING_BPS
    return DEFAULT_WITHHOLDING_BPS
