"""The synthetic stocks: USDC-collateralised debt positions minting a synthetic of each stock token,
after Synthetix and Mirror (`contracts/venues/synths/`).

- `parameters`: the vault's risk settings and price-guard limits, and their defaults;
- `maths`: the vault's health, collateral-ratio and liquidation arithmetic, as the contract does it;
- `contracts`: the compiled contracts;
- `deployment`: `deploy_synths` and the `SynthsDeployment` record;
- `views`: `SynthsReader`, vaults and positions in the model's value types;
- `actions`: `SynthsClient`, a writer's checked actions, sent once through the outbox;
- `errors`: what the venue refuses, each error naming the problem.
The liquidation keeper is `equitoken.keepers.synths`.
"""
