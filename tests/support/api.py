"""An API over a real issuer: the platform's issuer, its indexer and the liabilities built from it wrapped
in the API, with keys for an operator, two authorised participants and a retail investor (`build_api`),
and a test client that mints and settles through it (`Api`)."""

from dataclasses import dataclass
from datetime import timedelta

import httpx2
from fastapi.testclient import TestClient
from tests.support.platform import USDC, Platform

from equitoken.api import ApiContext, Role, create_app
from equitoken.api.ratelimit import RateLimit
from equitoken.indexer import IndexedChain, Indexer
from equitoken.issuer.corporate_actions.service import CorporateActions
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.proofs.liabilities import Liabilities
from equitoken.store.database import Database

PROOF_SECRET = b"the api tests' proof nonce secret"


@dataclass
class Api:
    """A test client on the API, the platform behind it, and one key per actor."""

    client: TestClient
    platform: Platform
    context: ApiContext
    operator: dict[str, str]
    participant: dict[str, str]
    other_participant: dict[str, str]
    retail: dict[str, str]
    other_participant_id: str
    retail_id: str
    indexer: Indexer

    def mint(self, key: str, quantity: str = "1", headers: dict[str, str] | None = None) -> httpx2.Response:
        response: httpx2.Response = self.client.post(
            "/api/v1/requests",
            json={"kind": "mint", "ticker": "AAPL", "quantity": quantity, "wallet": self.platform.wallet},
            headers={**(headers or self.participant), "Idempotency-Key": key},
        )
        return response

    def settle(self) -> None:
        """Run the workflow until no request is open, then index what it did."""
        self.platform.run()
        self.indexer.poll()


def build_api(
    platform: Platform,
    database: Database,
    calendar: MarketCalendar,
    prices: ReplayPriceSource,
    rate_limit: RateLimit | None = None,
) -> Api:
    """Issue keys and wrap the platform's issuer, its indexer and liabilities in the API."""
    indexer = Indexer(database, [IndexedChain(platform.chain, platform.onchain.deployment, confirmations=0)])
    context = ApiContext(
        issuer=platform.issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
        rate_limit=rate_limit or RateLimit(),
        corporate_actions=CorporateActions(platform.issuer, platform.broker, prices, calendar),
        indexer=indexer,
        liabilities=Liabilities(indexer, platform.issuer, PROOF_SECRET),
    )
    investors = platform.issuer.investors
    expiry = platform.clock.now() + timedelta(days=365)
    other = investors.onboard("Flow Traders B.V.", "NL", "authorised_participant", kyc_expires_at=expiry)
    investors.bind_wallet(other.id, platform.other_wallet)
    retail = investors.onboard("Ada Lovelace", "GB", "retail", kyc_expires_at=expiry)
    keys = context.keys
    platform.approve_mint(100_000 * USDC)
    return Api(
        client=TestClient(create_app(context), raise_server_exceptions=False),
        platform=platform,
        context=context,
        operator={"X-API-Key": keys.issue(Role.OPERATOR, None, "ops desk")},
        participant={"X-API-Key": keys.issue(Role.PARTICIPANT, platform.participant.id, "jane street")},
        other_participant={"X-API-Key": keys.issue(Role.PARTICIPANT, other.id, "flow traders")},
        retail={"X-API-Key": keys.issue(Role.INVESTOR, retail.id, "ada")},
        other_participant_id=other.id,
        retail_id=retail.id,
        indexer=indexer,
    )
