"""`python -m equitoken.cli`: the same command line as `equitoken`."""

from equitoken.cli import app

app()
