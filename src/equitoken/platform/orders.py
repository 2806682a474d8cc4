"""The order processor of a local platform (the Dinari dShares model): deployed once beside the
issuer's tokens on its chain, its fees quoted by the issuer's attester key, its orders filled by the
operator in the platform's loop.

`open_order_processor` deploys the processor for every token the issuer offers on its chain on the first
run and records it in `deployments/order-processor-chain-<id>.json`; a later run reuses the record
while the contract is on the node. The processor holds sellers' tokens in escrow, so on permissioned
tokens it is a wallet of the venue operator (the investor the AMM pools and the lending market use).
"""

from pathlib import Path

from equitoken.brokers.broker import Broker
from equitoken.chain.evm.deployment import Progress
from equitoken.issuer.investors import InvestorCategory
from equitoken.issuer.orders.deployment import deploy_processor, processor_at, processor_records
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.issuer.orders.operator import ProcessorOperator
from equitoken.issuer.orders.quoter import FeeQuoter
from equitoken.issuer.service import Issuer
from equitoken.market.prices import PriceSource
from equitoken.platform.pool_seed import VENUE_OPERATOR, onboard_by_name


def open_order_processor(
    issuer: Issuer, broker: Broker, prices: PriceSource, data_dir: Path, progress: Progress
) -> ProcessorDesk:
    """Return the order processor of the issuer's chain recorded in `data_dir` with its quoter and
    operator, deploying it first if need be."""
    onchain = issuer.onchain
    chain = onchain.chain
    records = processor_records(data_dir / "deployments")
    deployment = records.load(chain.chain_id)
    if deployment is None or not chain.code(deployment.processor):
        tickers = [t for t in onchain.tickers if t in issuer.instruments]
        progress(f"deploying the order processor for {', '.join(tickers)}")
        venue = onboard_by_name(issuer, VENUE_OPERATOR, InvestorCategory.PROFESSIONAL)
        deployment = deploy_processor(onchain, tickers=tickers, venue_investor_id=venue.onchain_id)
        records.save(chain.chain_id, deployment)
    processor = processor_at(chain, deployment)
    signer = chain.signers.get(onchain.roles.attester)
    fees = issuer.config.fees
    quoter = FeeQuoter(onchain, processor, signer, issuer.instruments, prices, issuer.clock, fees)
    operator = ProcessorOperator(
        issuer.db, onchain, processor, broker, issuer.clock, issuer.instruments, issuer, prices
    )
    return ProcessorDesk(quoter, operator)
