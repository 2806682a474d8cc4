"""The lending venue: isolated markets lending USDC against stock tokens, after Morpho Blue's design,
with an oracle adapter that knows the stock market's clock (`contracts/venues/lending/`).

- `parameters`: a market's max LTV and liquidation threshold, the defaults (Kamino's xStocks table)
  and the oracle adapter's settings;
- `deployment`: `deploy_lending` and the `LendingDeployment` record;
- `contracts`: the compiled contracts;
- `adapter`: the adapter's states and the actions it prices;
- `maths`: the market's share and health arithmetic, as the contract does it;
- `views`: `LendingReader`, markets and positions in the model's value types;
- `borrowers`: the borrowers of each market and their liquidations, from the market's events;
- `actions`: `LendingClient`, an investor's checked actions, sent once through the outbox;
- `errors`: what the venue refuses, each error naming the problem.
The liquidation keeper is `equitoken.keepers.liquidation`.
"""
