"""Harnesses the tests share: platforms wired for a test, real peers, the moved clock of CI's rerun."""
