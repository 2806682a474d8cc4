"""A local stand-in for Alpaca's market-data API, serving the replay data as Alpaca's JSON.

Alpaca cannot be reached from the test machines, so this serves the documented response shapes
(https://docs.alpaca.markets/reference/stockbars, .../stocklatesttrades) for the endpoints our
adapter uses: the multi-symbol ones alpaca-py calls (`/v2/stocks/bars`, `/v2/stocks/trades/latest`)
and their single-symbol forms (`/v2/stocks/{symbol}/bars`, `/v2/stocks/{symbol}/trades/latest`).
Minute bars are cut from the replay source's price at each minute, daily bars are the packaged ones.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from equitoken.market.calendar import NEW_YORK, MarketCalendar
from equitoken.market.replay import ReplayPriceSource, daily_bar
from equitoken.model.quantities import Price
from equitoken.model.time import Clock

KEY_ID = "PKTESTSTANDIN"
SECRET_KEY = "standin-secret"
_MINUTE = timedelta(minutes=1)


def _number(price: Price) -> float:
    return float(price.to_decimal())


def _timestamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # alpaca-py sends naive UTC times (its request models strip the zone).
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


@dataclass
class StandInState:
    prices: ReplayPriceSource
    calendar: MarketCalendar
    clock: Clock
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""  # set while served

    def latest_trade(self, symbol: str) -> dict[str, Any] | None:
        if symbol not in self.prices.tickers():
            return None
        quote = self.prices.quote(symbol, self.clock.now())
        return {
            "t": _timestamp(quote.at),
            "x": "V",
            "p": _number(quote.price),
            "s": 100,
            "c": ["@"],
            "i": 1,
            "z": "C",
        }

    def bars(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        if symbol not in self.prices.tickers():
            return []
        first = start.astimezone(NEW_YORK).date()
        last = end.astimezone(NEW_YORK).date()
        sessions = self.calendar.sessions_between(first, last)
        result: list[dict[str, Any]] = []
        for session in sessions:
            bar = daily_bar(symbol, session.date)
            if bar is None:
                continue
            if timeframe == "1Day":
                stamp = datetime.combine(session.date, datetime.min.time(), NEW_YORK)
                if start <= stamp <= end:
                    result.append(
                        {
                            "t": _timestamp(stamp),
                            "o": _number(bar.open),
                            "h": _number(bar.high),
                            "l": _number(bar.low),
                            "c": _number(bar.close),
                            "v": bar.volume,
                            "n": 1,
                            "vw": _number(bar.close),
                        }
                    )
                continue
            minute = max(start, session.open)
            while minute < min(end + _MINUTE, session.close):
                opening = self.prices.quote(symbol, minute).price
                closing = self.prices.quote(symbol, minute + _MINUTE).price
                result.append(
                    {
                        "t": _timestamp(minute),
                        "o": _number(opening),
                        "h": _number(max(opening, closing)),
                        "l": _number(min(opening, closing)),
                        "c": _number(closing),
                        "v": 100,
                        "n": 1,
                        "vw": _number(closing),
                    }
                )
                minute += _MINUTE
        return result


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:
        url = urlparse(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        state = self.server.state
        state.requests.append((url.path, params))
        if (
            self.headers.get("APCA-API-KEY-ID") != KEY_ID
            or self.headers.get("APCA-API-SECRET-KEY") != SECRET_KEY
        ):
            self._send(401, {"code": 40110000, "message": "request is not authorized"})
            return
        if params.get("adjustment", "raw") != "raw":
            self._send(422, {"code": 42210000, "message": "stand-in serves raw (as-traded) data only"})
            return
        parts = url.path.strip("/").split("/")
        match parts:
            case ["v2", "stocks", "trades", "latest"]:
                trades = {s: t for s in params["symbols"].split(",") if (t := state.latest_trade(s))}
                self._send(200, {"trades": trades})
            case ["v2", "stocks", symbol, "trades", "latest"]:
                trade = state.latest_trade(symbol)
                if trade is None:
                    self._send(404, {"code": 40410000, "message": "symbol not found"})
                else:
                    self._send(200, {"symbol": symbol, "trade": trade})
            case ["v2", "stocks", "bars"]:
                bars = {s: b for s in params["symbols"].split(",") if (b := self._bars(s, params))}
                self._send(200, {"bars": bars, "next_page_token": None})
            case ["v2", "stocks", symbol, "bars"]:
                self._send(
                    200, {"symbol": symbol, "bars": self._bars(symbol, params), "next_page_token": None}
                )
            case _:
                self._send(404, {"code": 40410000, "message": f"no route for {url.path}"})

    def _bars(self, symbol: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return self.server.state.bars(
            symbol, params["timeframe"], _parse_time(params["start"]), _parse_time(params["end"])
        )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Keep access logs out of the test output; `StandInState.requests` records what was asked.
        pass


class _Server(ThreadingHTTPServer):
    state: StandInState


@contextmanager
def alpaca_standin(state: StandInState) -> Iterator[str]:
    """Serve the stand-in on a free localhost port; yield its base URL (for `url_override`)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state
    # A short poll keeps shutdown (once per test) quick; the default waits up to half a second.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
