"""A seeded market week: a population of agents trading across the venues on an in-process chain.

`week.py` resolves the week and its time steps, `world.py` builds the platform the agents trade on
(the issuer, the AMM, the order book, lending, perpetuals, CFDs, the oracle and the keepers),
`agents.py` holds what each kind of agent decides, `run.py` steps the clock through the week and lets everyone
act, and `report.py` turns what happened into the run's figures. See docs/simulation.md.
"""
