"""Investor maintenance: a KYC renewal is recorded and written to the identity registry; bad input
changes neither."""

from datetime import UTC, datetime

import pytest
from tests.support.platform import Platform

from equitoken.issuer.errors import InvalidRequestError, UnknownInvestorError


def _registry_expiry(platform: Platform) -> int:
    _country, expiry, _accredited, _frozen, _wallets = platform.onchain.registry.investor(
        platform.participant.onchain_id
    )
    return int(expiry)


def test_a_kyc_renewal_reaches_the_identity_registry(platform: Platform) -> None:
    renewed_until = datetime(2028, 6, 30, 10, tzinfo=UTC)

    investor = platform.issuer.investors.set_kyc_expiry(platform.participant.id, renewed_until)

    assert investor.kyc_expires_at == renewed_until
    assert platform.issuer.investors.get(platform.participant.id).kyc_expires_at == renewed_until
    assert _registry_expiry(platform) == int(renewed_until.timestamp())
    assert investor.wallets == platform.participant.wallets
    assert investor.frozen is False


@pytest.mark.parametrize(
    ("investor_id", "expiry", "error", "named"),
    [
        (None, datetime(2028, 1, 1), InvalidRequestError, "KYC expiry must carry a timezone"),
        (None, datetime(1969, 12, 31, tzinfo=UTC), InvalidRequestError, "is before 1970"),
        ("inv-nobody", datetime(2028, 1, 1, tzinfo=UTC), UnknownInvestorError, "no investor 'inv-nobody'"),
    ],
)
def test_a_bad_kyc_renewal_changes_nothing(
    platform: Platform, investor_id: str | None, expiry: datetime, error: type[Exception], named: str
) -> None:
    before = platform.issuer.investors.get(platform.participant.id)
    on_chain = _registry_expiry(platform)

    with pytest.raises(error, match=named):
        platform.issuer.investors.set_kyc_expiry(investor_id or platform.participant.id, expiry)

    assert platform.issuer.investors.get(platform.participant.id) == before
    assert _registry_expiry(platform) == on_chain
