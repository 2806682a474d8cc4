"""The README's main command, as a user runs it: `./dev up` with its default arguments in a fresh clone
with nothing beside it, until the dashboard answers and the demo mint and every pool seed have
completed; the API shows the seven default lending markets with Kamino's LLTVs, each supplied by the
demo lender; the demo participant then mints AAPLx on Solana through the API; then Ctrl-C stops it
cleanly. And every instrument `up` offers has prices for the whole
replayed period, the others being left out with a notice.

The clone is of the repository's committed state (`git clone`), as CI's checkout is. Installing the
packages needs the network's real time (TLS certificates), so the clone's bootstrap runs without a
moved clock; the platform itself runs under whatever clock the test process has.
"""

import json
import shutil
import subprocess
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from tests.support import faketime
from tests.support.processes import interrupt

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.deployment import solana_deployment_records
from equitoken.chain.solana.rpc import SolanaRpcChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import DEFAULT_REPLAY_START
from equitoken.market.replay import ReplayPriceSource
from equitoken.platform.lending import LENDER_USDC_PER_MARKET
from equitoken.platform.local import ACCOUNTS, DEFAULT_INSTRUMENTS, catalogue_rows
from equitoken.platform.pool_seed import POOLS_FILE, PoolSeedRecord
from equitoken.platform.up import HISTORY_UNTIL

REPO = Path(__file__).resolve().parents[2]
# The README's defaults: the dashboard on port 8000, the node on 8545, Solana on 8899, the data in `.data`.
DASHBOARD = "http://127.0.0.1:8000"
SOLANA_RPC = "http://127.0.0.1:8899"
FINAL = {"completed", "failed", "held", "cancelled", "expired"}


def _fresh_clone(tmp_path: Path) -> Path:
    clone = tmp_path / "equitoken"  # nothing else in tmp_path: no ../shared, no data
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    subprocess.run(
        ["./dev", "bootstrap"], cwd=clone, env=faketime.real_time_environment(), check=True, timeout=600
    )
    return clone


def _requests(keys: list[dict[str, str]]) -> list[dict[str, str]]:
    operator = next(k["key"] for k in keys if k["role"] == "operator")
    response = httpx.get(f"{DASHBOARD}/api/v1/requests", headers={"X-API-Key": operator}, timeout=10)
    assert response.status_code == 200, response.text
    items: list[dict[str, str]] = response.json()["items"]
    return items


def _mint_aaplx_on_solana(data: Path, keys: list[dict[str, str]]) -> None:
    """Mint AAPLx on the Solana `up` runs through the API, as the demo participant, paying on EVM; see
    it settle, in the participant's Solana wallet (read through the JSON-RPC) and in the reserves."""
    participant = next(k["key"] for k in keys if k["role"] == "participant")
    keypair = json.loads((data / "solana" / "participant-wallet.json").read_text())
    wallet = str(Keypair.from_bytes(bytes(keypair)).pubkey())
    body = {
        "kind": "mint",
        "ticker": "AAPL",
        "quantity": "2",
        "chain_id": SOLANA_LOCAL,
        "wallet": wallet,
        "payment_wallet": SignerRegistry.anvil(ACCOUNTS).addresses[10],  # the demo participant's
    }
    headers = {"X-API-Key": participant, "Idempotency-Key": "readme-solana"}
    created = httpx.post(f"{DASHBOARD}/api/v1/requests", json=body, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 120
    while (state := _request(participant, created.json()["id"])["state"]) not in FINAL:
        assert time.monotonic() < deadline, state
        time.sleep(1)
    assert state == "completed"
    record = solana_deployment_records(data / "solana").load(SOLANA_LOCAL)
    assert record is not None
    chain = SolanaRpcChain(SOLANA_RPC, SOLANA_LOCAL)
    try:
        assert chain.holder_balance(record.mint("AAPL"), Pubkey.from_string(wallet)) == 2 * 10**8
    finally:
        chain.close()
    reserves = httpx.get(f"{DASHBOARD}/api/v1/reserves", headers={"X-API-Key": participant}, timeout=10)
    aapl = next(r for r in reserves.json()["items"] if r["ticker"] == "AAPL")
    assert {c["chain_id"]: c["family"] for c in aapl["chains"]}[SOLANA_LOCAL] == "Solana"
    assert aapl["backed"]


def _lending_markets(keys: list[dict[str, str]]) -> None:
    """Check the default lending markets as an investor reads them: Kamino's LTVs, the lender's USDC."""
    investor = next(k["key"] for k in keys if k["role"] == "investor")
    response = httpx.get(f"{DASHBOARD}/api/v1/lending/markets", headers={"X-API-Key": investor}, timeout=10)
    assert response.status_code == 200, response.text
    markets = {m["ticker"]: m for m in response.json()}
    assert {t: (m["max_ltv"], m["lltv"]) for t, m in markets.items()} == {
        "SPY": ("0.73", "0.75"),
        "QQQ": ("0.7", "0.72"),
        "GOOGL": ("0.6", "0.7"),
        "TSLA": ("0.55", "0.65"),
        "NVDA": ("0.55", "0.65"),
        "AAPL": ("0.4", "0.5"),
        "MSTR": ("0.3", "0.4"),
    }
    assert all(Decimal(m["supplied"]) >= LENDER_USDC_PER_MARKET // 10**6 for m in markets.values())


def _request(key: str, request_id: str) -> dict[str, str]:
    response = httpx.get(f"{DASHBOARD}/api/v1/requests/{request_id}", headers={"X-API-Key": key}, timeout=10)
    assert response.status_code == 200, response.text
    found: dict[str, str] = response.json()
    return found


@pytest.mark.anvil
def test_the_readme_main_command_reaches_a_seeded_platform_and_stops_cleanly(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to clone the repository, as a user does")
    clone = _fresh_clone(tmp_path)
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["./dev", "up"], cwd=clone, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        data = clone / ".data"
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-6000:]
            record = PoolSeedRecord.load(data / POOLS_FILE)
            if record is not None and record.mints and sorted(record.seeded) == sorted(record.mints):
                break
            time.sleep(1)

        assert httpx.get(f"{DASHBOARD}/", timeout=10).status_code == 200
        keys = json.loads((data / "api-keys.json").read_text())
        requests = _requests(keys)
        # The demo's first mint and one mint per pool, every one settled.
        assert len(requests) == 1 + len(record.mints)
        assert {r["state"] for r in requests} == {"completed"}
        _lending_markets(keys)
        _mint_aaplx_on_solana(data, keys)
        text = log.read_text(errors="replace")
        assert "left out, no price source covers them (never offered for minting): COIN" in text
        assert "Traceback" not in text
    finally:
        code = interrupt(process, 120, log)
    assert code == 0, log.read_text(errors="replace")[-4000:]


def test_every_instrument_up_offers_has_prices_through_the_replayed_period() -> None:
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)
    last = calendar.session_on(HISTORY_UNTIL)
    assert last is not None
    for count in (DEFAULT_INSTRUMENTS, None):  # the default and `--instruments all`
        offered, left_out = catalogue_rows(count, prices.tickers())
        assert offered
        assert not {i.ticker for i in offered} & set(left_out)
        for instrument in offered:
            for at in (DEFAULT_REPLAY_START, DEFAULT_REPLAY_START + timedelta(days=30), last.close):
                assert prices.quote(instrument.ticker, at).price.units > 0, (instrument.ticker, at)
        for ticker in left_out:
            assert ticker not in prices.tickers()
    assert catalogue_rows(DEFAULT_INSTRUMENTS, prices.tickers())[1] == ["COIN"]
