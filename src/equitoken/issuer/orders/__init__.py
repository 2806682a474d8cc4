"""Primary orders through an on-chain order processor (Dinari's dShares model): the fee quotes the issuer
signs for requesters (`quoter`), the processor's deployment (`deployment`), and the operator that fills
each order from broker fills, exactly once (`operator`)."""
