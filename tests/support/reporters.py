"""Reporters run in the test's own process.

The transmitter waits `timeout` seconds (2 by default) for each reporter, a bound meant for reporters
across a network. In-process reporters share the test's CPU with the rest of a loaded CI run (two
workers on two cores), where one tick's signing can take longer than 2 s of wall time: a replay that
asserts every tick reaches its quorum gives them `IN_PROCESS_TIMEOUT` instead.
"""

IN_PROCESS_TIMEOUT = 60.0
