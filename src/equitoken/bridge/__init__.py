"""Moving tokens between chains: burn at the source, mint once at the destination, attested by a quorum."""
