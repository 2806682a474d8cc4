"""Fixtures for the oracle: the NYSE calendar and replayed prices (databases: `tests/conftest.py`)."""
