"""Fixtures for the brokers: the NYSE calendar and replayed prices, shared by the session."""
