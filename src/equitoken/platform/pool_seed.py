"""The AMM's first liquidity on a local platform, minted through the issuer like any other token.

A demo market maker (an authorised participant, dev wallets 14 and 15) mints each pooled token through
the issuer's normal mint path, so every token in a pool is backed by shares in custody. Once a mint
has settled, a sixth of it goes to the keeper wallet (the arbitrage keeper's inventory), a sixth stays
in the market maker's wallet for the order book (`book_seed.py` deposits it into the exchange), and
the rest goes into the pool with USDC at the oracle's latest price. The pools of `permissioned`
tokens are wallets of a verified venue-operator investor, bound through the investor book (and so
the identity registry) before any token reaches them. Dev wallet 18, a third wallet of the market
maker, is the authorised-participant keeper's, funded with USDC for its mints.

Every on-chain step goes through the issuer's outbox under a unique purpose (`pool-seed:<ticker>:
<step>`), so a kill between any two steps neither repeats nor loses one; `pools.json` in the data
directory records the mint requests, and which pools are seeded.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.outbox import TxOutcome
from equitoken.issuer.investors import Investor, InvestorCategory
from equitoken.issuer.service import Issuer
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import PRICE_DECIMALS
from equitoken.platform.local import ACCOUNTS, USDC, LocalIssuer
from equitoken.venues.amm import AmmDeployment

POOLS_FILE = "pools.json"
MARKET_MAKER = "Harbour Liquidity Ltd"
VENUE_OPERATOR = "Equitoken Venues"
MARKET_MAKER_ACCOUNT = 14  # provides the pools' liquidity
KEEPER_ACCOUNT = 15  # the arbitrage keeper's wallet, a second wallet of the market maker
AP_KEEPER_ACCOUNT = 18  # the authorised-participant keeper's wallet, a third of the market maker
AP_KEEPER_USDC = 100_000 * USDC
POOL_DOLLARS = 100_000  # the value of each pool's stock side at its first deposit
KEEPER_DOLLARS = 25_000  # the arbitrage keeper's tokens
BOOK_DOLLARS = 25_000  # the market maker's tokens for the order book
MINT_DOLLARS = POOL_DOLLARS + KEEPER_DOLLARS + BOOK_DOLLARS
KEEPER_USDC_PER_POOL = 25_000 * USDC
BOOK_USDC_PER_POOL = 25_000 * USDC  # the market maker's USDC for the order book
# Whole shares of a mint are paid at the broker's fill: leave room for the price to move.
MINT_HEADROOM = 2
KYC_VALIDITY = timedelta(days=3 * 365)
# The deposit is signed once and may be sent again after a crash: a late block must not void it.
FAR_DEADLINE = 2**40
UNLIMITED = 2**256 - 1


class PoolSeedError(EquitokenError, RuntimeError):
    """A pool could not be seeded (its mint failed, or the pool refused the deposit)."""

    code = "pool_seed_failed"


@dataclass
class PoolSeedRecord:
    """What the pool seed has done so far (`pools.json`)."""

    market_maker: str  # investor id
    mints: dict[str, str]  # ticker -> mint request id
    seeded: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the record atomically."""
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(self), indent=2))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> "PoolSeedRecord | None":
        """Return the record at `path`, or None if the pools were never seeded there."""
        return cls(**json.loads(path.read_text())) if path.is_file() else None


def send_as_market_maker(
    local: LocalIssuer, purpose: str, function: ContractFunction, args: tuple[object, ...]
) -> TxOutcome:
    """Send `function(*args)` from the market maker's wallet exactly once, under `purpose`."""
    outcome = local.onchain.outbox.run(
        local.database,
        purpose,
        function,
        args,
        sender=market_maker_wallet(),
        owner="pool-seed",
        now=local.clock.now,
        record=lambda session, outcome: None,
    )
    if outcome.failed:
        raise PoolSeedError(f"{purpose} failed on-chain: {outcome.error}")
    return outcome


def onboard_by_name(issuer: Issuer, name: str, category: InvestorCategory) -> Investor:
    """Return the investor called `name` (the venues' own investors are found by name), onboarding it
    first if the book has none."""
    book = issuer.investors
    investor = next((i for i in book.all() if i.name == name), None)
    if investor is None:
        investor = book.onboard(name, "GB", category, kyc_expires_at=issuer.clock.now() + KYC_VALIDITY)
    return investor


def market_maker_wallet() -> str:
    """Return the wallet that provides the pools' liquidity."""
    return SignerRegistry.anvil(ACCOUNTS).addresses[MARKET_MAKER_ACCOUNT]


def keeper_wallet() -> str:
    """Return the arbitrage keeper's wallet."""
    return SignerRegistry.anvil(ACCOUNTS).addresses[KEEPER_ACCOUNT]


def ap_keeper_wallet() -> str:
    """Return the authorised-participant keeper's wallet."""
    return SignerRegistry.anvil(ACCOUNTS).addresses[AP_KEEPER_ACCOUNT]


class PoolSeed:
    """Mint each pool's tokens through the issuer, then deposit them with USDC, once."""

    def __init__(self, local: LocalIssuer, amm: AmmDeployment, data_dir: Path) -> None:
        self.local = local
        self.amm = amm
        self.path = data_dir / POOLS_FILE
        self.record = PoolSeedRecord.load(self.path)

    @property
    def requested(self) -> bool:
        return self.record is not None and set(self.record.mints) >= set(self.amm.pools)

    @property
    def done(self) -> bool:
        return self.record is not None and set(self.record.seeded) >= set(self.amm.pools)

    def request(self) -> PoolSeedRecord:
        """Onboard the market maker and venue operator, fund the wallets and request the mints."""
        issuer, clock = self.local.issuer, self.local.clock
        maker = onboard_by_name(self.local.issuer, MARKET_MAKER, InvestorCategory.AUTHORISED_PARTICIPANT)
        for wallet in (market_maker_wallet(), keeper_wallet(), ap_keeper_wallet()):
            maker = issuer.investors.bind_wallet(maker.id, wallet)
        permissioned = [
            ticker
            for ticker in self.amm.pools
            if self.local.deployment.issuance.instrument(ticker).profile == "permissioned"
        ]
        if permissioned:
            operator = onboard_by_name(self.local.issuer, VENUE_OPERATOR, InvestorCategory.PROFESSIONAL)
            for ticker in permissioned:
                issuer.investors.bind_wallet(operator.id, self.amm.pool_address(ticker))
        record = self.record or PoolSeedRecord(maker.id, {})
        missing = [ticker for ticker in self.amm.pools if ticker not in record.mints]
        per_pool = MINT_HEADROOM * MINT_DOLLARS * USDC + POOL_DOLLARS * USDC + BOOK_USDC_PER_POOL
        self._top_up(market_maker_wallet(), len(missing) * per_pool)
        self._top_up(keeper_wallet(), len(missing) * KEEPER_USDC_PER_POOL)
        self._top_up(ap_keeper_wallet(), AP_KEEPER_USDC)
        for ticker in missing:
            price = self.local.prices.quote(ticker, clock.now()).price.units
            shares = max(1, MINT_DOLLARS * 10**PRICE_DECIMALS // price)
            mint = issuer.request_mint(
                maker.id, market_maker_wallet(), ticker, str(shares), f"demo-pool-seed-{ticker}"
            )
            record.mints[ticker] = mint.id
        record.save(self.path)
        self.record = record
        return record

    def provide(self) -> list[str]:
        """Deposit every settled mint not deposited yet; return the tickers seeded by this call."""
        record = self.record
        if record is None:
            return []
        seeded: list[str] = []
        for ticker, request_id in record.mints.items():
            if ticker in record.seeded:
                continue
            mint = self.local.issuer.request(request_id)
            if not mint.state.is_final:
                continue
            if not mint.tokens_settled:
                raise PoolSeedError(
                    f"the mint {request_id} for {ticker}'s pool ended {mint.state} with no tokens"
                )
            if self._deposit(ticker, mint.tokens_settled):
                record.seeded.append(ticker)
                record.save(self.path)
                seeded.append(ticker)
        return seeded

    def _deposit(self, ticker: str, minted: int) -> bool:
        local = self.local
        pool = self.amm.pool(local.chain, ticker)
        feed = local.chain.at(
            local.deployment.issuance.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
        )
        try:
            answer = int(feed.latestRoundStatus()[1])
        except RevertError:
            return False  # no round yet: the pool's price waits for the oracle's
        token = local.onchain.token(ticker)
        scale = 10 ** (PRICE_DECIMALS + int(token.decimals()) - int(local.onchain.usdc.decimals()))
        keeper_units = minted * KEEPER_DOLLARS // MINT_DOLLARS
        pool_units = minted - keeper_units - minted * BOOK_DOLLARS // MINT_DOLLARS
        maker = market_maker_wallet()
        steps: list[tuple[str, ContractFunction, tuple[object, ...]]] = [
            ("keeper", token.transfer, (keeper_wallet(), keeper_units)),
            ("approve-stock", token.approve, (pool.address, UNLIMITED)),
            ("approve-usdc", local.onchain.usdc.approve, (pool.address, UNLIMITED)),
            (
                "liquidity",
                pool.add_liquidity,
                (pool_units, pool_units * answer // scale, 0, 0, maker, FAR_DEADLINE),
            ),
        ]
        for step, function, args in steps:
            send_as_market_maker(self.local, f"pool-seed:{ticker}:{step}", function, args)
        return True

    def _top_up(self, wallet: str, target: int) -> None:
        balance = int(self.local.onchain.usdc.balanceOf(wallet))
        self.local.fund_dev_wallet(wallet, max(0, target - balance))
