"""Attestation issuance in the style of Ondo Global Markets: a signed quote lets a verified user mint or
redeem at once on the `AttestationMinter`, in the exchange calendar's hours; the issuer draws on an
inventory of unissued shares in custody and hedges through its broker afterwards. See
`docs/attestation.md`.
"""
