"""The perpetuals venue: leveraged longs and shorts on each stock token's price, settled in USDC against
one LP vault (gTrade's and Ostium's vault model), with Synthetix v3 funding and the stock market's clock
(`contracts/venues/perps/`).

- `parameters`: a market's leverage, fees, spread, skew scale, caps and closed-market policy, and the
  per-ticker defaults;
- `deployment`: `deploy_perps` and the `PerpsDeployment` record;
- `contracts`: the compiled contracts;
- `states`: the market's states and what each allows;
- `maths`: the market's fill, funding, PnL, equity and liquidation arithmetic, as the contract does it;
- `views`: `PerpsReader`, markets, the vault, positions and orders in the model's value types;
- `actions`: `PerpsClient`, a trader's and an LP's checked actions, sent once through the outbox;
- `errors`: what the venue refuses, each error naming the problem.
The keeper (orders after the reopening, take-profits and stop-losses, liquidations) is
`equitoken.keepers.perps`.
"""
