"""Deploy the AMM (pool blueprint, factory, router, one pool per stock token) and reach its contracts.

``deploy_amm`` works over any ``EvmChain`` (the in-process chain or anvil through JSON-RPC) with
ordinary signed transactions::

    amm = deploy_amm(chain, admin, usdc, deployment, ["AAPL", "MSFT"])
    pool = amm.pool(chain, "AAPL")
    pool.swap(amount_in, min_out, True, trader, deadline, sender=trader)

The pool blueprint is deployed as an ERC-5202 blueprint: its code is the pool's init code behind
the ``0xFE7100`` preamble, which no one can call and the factory copies with
``create_from_blueprint``. A pool for a ``permissioned`` token moves stock only once the identity
registry knows it as a wallet of a verified investor (the venue operator): pass ``pool_investor``
(the operator's investor id) and ``registrar`` to register each such pool here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from equitoken.chain.errors import ChainError
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, register_wallet

__all__ = [
    "AmmDeployment",
    "AmmError",
    "blueprint_initcode",
    "deploy_amm",
    "factory_artifact",
    "pool_artifact",
    "router_artifact",
]

_ERC5202_PREAMBLE = b"\xfe\x71\x00"
_MAX_BLUEPRINT_SIZE = 0xFFFF


class AmmError(ChainError, ValueError):
    """The AMM cannot be deployed as asked; the message names the ticker or the missing piece."""

    code = "amm_error"


def pool_artifact() -> Artifact:
    """Return the compiled ``StockPool``."""
    return compile_contract("venues/StockPool.vy")


def factory_artifact() -> Artifact:
    """Return the compiled ``PoolFactory``."""
    return compile_contract("venues/PoolFactory.vy")


def router_artifact() -> Artifact:
    """Return the compiled ``PoolRouter``."""
    return compile_contract("venues/PoolRouter.vy")


def blueprint_initcode(initcode: bytes) -> bytes:
    """Return the init code that stores `initcode` as an ERC-5202 blueprint."""
    body = _ERC5202_PREAMBLE + initcode
    if len(body) > _MAX_BLUEPRINT_SIZE:
        raise AmmError(f"a blueprint holds at most {_MAX_BLUEPRINT_SIZE} bytes, the pool has {len(body)}")
    # PUSH2 len, RETURNDATASIZE, DUP2, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURN: copy the 10-byte
    # loader's tail (the blueprint) to memory 0 and return it as the contract's code.
    return b"\x61" + len(body).to_bytes(2, "big") + b"\x3d\x81\x60\x0a\x3d\x39\xf3" + body


@dataclass(frozen=True)
class AmmDeployment:
    """Where the AMM lives on one chain: its factory, router, pool blueprint and pools by ticker."""

    chain_id: int
    usdc: str
    pool_blueprint: str
    factory: str
    router: str
    pools: Mapping[str, str]

    def pool_address(self, ticker: str) -> str:
        """Return the address of `ticker`'s pool."""
        try:
            return self.pools[ticker]
        except KeyError:
            raise KeyError(f"no AMM pool for {ticker} on chain {self.chain_id}") from None

    def pool(self, chain: EvmChain, ticker: str) -> Contract:
        """Return `ticker`'s pool on `chain`."""
        return chain.at(self.pool_address(ticker), pool_artifact(), f"{ticker} pool")

    def factory_contract(self, chain: EvmChain) -> Contract:
        """Return the factory on `chain`."""
        return chain.at(self.factory, factory_artifact(), "PoolFactory")

    def router_contract(self, chain: EvmChain) -> Contract:
        """Return the router on `chain`."""
        return chain.at(self.router, router_artifact(), "PoolRouter")


def deploy_amm(
    chain: EvmChain,
    admin: str,
    usdc: str,
    deployment: IssuanceDeployment,
    tickers: Sequence[str],
    *,
    registrar: str | None = None,
    pool_investor: int | None = None,
) -> AmmDeployment:
    """Deploy the pool blueprint, the factory and the router as `admin`, then a pool per ticker.

    With `registrar` and `pool_investor`, each pool of a ``permissioned`` token is added as a wallet
    of that investor in the identity registry. Unknown, repeated and ``restricted`` tickers are
    refused before anything is sent.
    """
    _check_tickers(deployment, tickers, chain)
    if (registrar is None) != (pool_investor is None):
        raise AmmError("registering pools needs both the registrar and the pool investor id")
    pool = pool_artifact()
    blueprint_receipt = chain.transact(
        None, blueprint_initcode(pool.bytecode), sender=admin, context="deploying the StockPool blueprint"
    )
    blueprint = blueprint_receipt.contract_address
    if blueprint is None:
        raise AmmError("deploying the StockPool blueprint: the receipt has no contract address")
    factory = chain.deploy_contract(factory_artifact(), blueprint, usdc, sender=admin)
    router = chain.deploy_contract(router_artifact(), factory.address, sender=admin)
    pools: dict[str, str] = {}
    for ticker in tickers:
        instrument = deployment.instrument(ticker)
        factory.create_pool(instrument.token, instrument.price_feed, sender=admin)
        address = str(factory.pool_of(instrument.token))
        if registrar is not None and pool_investor is not None and instrument.profile == "permissioned":
            register_wallet(chain, deployment, pool_investor, address, registrar)
        pools[ticker] = address
    return AmmDeployment(chain.chain_id, usdc, blueprint, factory.address, router.address, pools)


def _check_tickers(deployment: IssuanceDeployment, tickers: Sequence[str], chain: EvmChain) -> None:
    if deployment.chain_id != chain.chain_id:
        raise AmmError(f"the issuance deployment is for chain {deployment.chain_id}, not {chain.chain_id}")
    if len(set(tickers)) != len(tickers):
        raise AmmError(f"tickers repeat: {', '.join(tickers)}")
    known = {instrument.ticker: instrument for instrument in deployment.instruments}
    for ticker in tickers:
        if ticker not in known:
            raise AmmError(f"{ticker} is not deployed on chain {deployment.chain_id}")
        if known[ticker].profile == "restricted":
            raise AmmError(
                f"{ticker} is a restricted token: only its operators move it, so it cannot be pooled"
            )
