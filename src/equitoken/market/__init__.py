"""Market layer: the clock, exchange sessions and price sources (replayed history or Alpaca).

Modules:
- `clock`: `Clock` protocol, `SystemClock`, `ManualClock` for tests and simulations.
- `calendar`: `MarketCalendar` with the sessions and phases of a US exchange.
- `prices`: `Quote`, `PriceSource` protocol and `NoPriceError`.
- `replay`: `ReplayPriceSource` over packaged real daily and 1-minute bars, as traded.
- `alpaca`: `AlpacaPriceSource` over Alpaca's market-data API.
"""
