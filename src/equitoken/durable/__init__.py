"""Durable execution: every subsystem that moves value does it through these, so that a process killed
between any two steps loses nothing and does nothing twice.

- `outbox`: every on-chain transaction is signed and stored under a unique purpose before it is
  broadcast, and its effect is recorded with its receipt, once;
- `crashpoints`: the one registry of the named points between steps where tests kill the process;
- `steps`: the step machine that advances a row (a request, a corporate action, a withdrawal) one
  recorded step at a time, each step's effect stored with the row's new state.
"""
