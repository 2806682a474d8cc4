"""Brokers the issuer buys and sells shares through: one interface (`broker`), a simulated one
(`paper`) and a real one (`alpaca`)."""
