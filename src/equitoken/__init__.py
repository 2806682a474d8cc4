"""Equitoken: tokenized US equities backed 1:1 by shares in custody."""

__version__ = "0.1.0"
