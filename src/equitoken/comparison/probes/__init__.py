"""One probe per model (see `base`); `default_probes` lists every model the comparison covers, in the
report's order."""

from collections.abc import Sequence

from equitoken.comparison.period import PeriodError
from equitoken.comparison.probes.amm import AmmProbe
from equitoken.comparison.probes.attestation import AttestationProbe
from equitoken.comparison.probes.base import Delivery, Holding, Probe, RoundTrip
from equitoken.comparison.probes.book import BookProbe
from equitoken.comparison.probes.cfd import CfdProbe
from equitoken.comparison.probes.ledger import ExchangeLedgerProbe
from equitoken.comparison.probes.lending import LendingProbe
from equitoken.comparison.probes.order_processor import OrderProcessorProbe
from equitoken.comparison.probes.perp import PerpProbe
from equitoken.comparison.probes.primary import PrimaryProbe
from equitoken.comparison.probes.synth import SynthProbe


class UnknownModelError(PeriodError):
    """A model the comparison does not know."""

    code = "unknown_model"


def select_probes(models: Sequence[str]) -> list[Probe]:
    """Return fresh probes for `models` (by name, in the report's order); all of them when empty."""
    probes = default_probes()
    if not models:
        return probes
    known = [p.model for p in probes]
    unknown = [m for m in models if m not in known]
    if unknown:
        raise UnknownModelError(f"unknown model {', '.join(unknown)}; known: {', '.join(known)}")
    return [p for p in probes if p.model in models]


def default_probes() -> list[Probe]:
    """Return a fresh probe for every model."""
    return [
        AmmProbe(),
        BookProbe(),
        PrimaryProbe(),
        OrderProcessorProbe(),
        AttestationProbe(),
        ExchangeLedgerProbe(),
        PerpProbe(),
        SynthProbe(),
        CfdProbe(),
        LendingProbe(),
    ]


__all__ = [
    "Delivery",
    "Holding",
    "Probe",
    "RoundTrip",
    "UnknownModelError",
    "default_probes",
    "select_probes",
]
