"""ISO 3166-1 jurisdictions: the alpha-2 codes investors are onboarded with, and the numeric codes the
on-chain identity registry stores (uint16)."""

from equitoken.issuer.errors import InvalidRequestError

_NUMERIC = {
    "AE": 784, "AR": 32, "AT": 40, "AU": 36, "BE": 56, "BG": 100, "BR": 76, "BY": 112, "CA": 124,
    "CH": 756, "CL": 152, "CN": 156, "CO": 170, "CU": 192, "CY": 196, "CZ": 203, "DE": 276, "DK": 208,
    "EE": 233, "EG": 818, "ES": 724, "FI": 246, "FR": 250, "GB": 826, "GR": 300, "HK": 344, "HR": 191,
    "HU": 348, "ID": 360, "IE": 372, "IL": 376, "IN": 356, "IR": 364, "IS": 352, "IT": 380, "JP": 392,
    "KE": 404, "KP": 408, "KR": 410, "LI": 438, "LT": 440, "LU": 442, "LV": 428, "MT": 470, "MX": 484,
    "MY": 458, "NG": 566, "NL": 528, "NO": 578, "NZ": 554, "PE": 604, "PH": 608, "PL": 616, "PT": 620,
    "RO": 642, "RU": 643, "SA": 682, "SE": 752, "SG": 702, "SI": 705, "SK": 703, "SY": 760, "TH": 764,
    "TR": 792, "TW": 158, "UA": 804, "US": 840, "VE": 862, "VN": 704, "ZA": 710,
}  # fmt: skip


def numeric_code(alpha2: str) -> int:
    """Return the ISO 3166-1 numeric code of `alpha2`; raise for a code this platform does not know."""
    code = _NUMERIC.get(alpha2)
    if code is None:
        raise InvalidRequestError(
            f"jurisdiction {alpha2!r} is not an ISO 3166-1 alpha-2 code this issuer onboards "
            f"(known: {', '.join(sorted(_NUMERIC))})"
        )
    return code
