"""The `equitoken` command line: run the platform locally, and operate its issuer.

One module per group of commands: `up` (the platform), `issuer` (catalogue, investors, requests,
workflow, reconciliation), `oracle` (halts and feed rounds), `dev` (local dev wallets), `proofs`
(verify an inclusion proof), `compare` (every model side by side over a replayed period),
`simulate` (a seeded market week of agents); `options` holds what they share.
"""

import typer

from equitoken.cli.compare import compare
from equitoken.cli.dev import dev_app, dev_fund
from equitoken.cli.issuer import (
    instruments,
    investor_app,
    investor_list,
    investor_onboard,
    mint,
    process,
    reconcile,
    redeem,
    request_app,
    request_cancel,
    request_list,
    request_resolve,
    request_show,
)
from equitoken.cli.oracle import oracle_app, oracle_halt, oracle_resume, oracle_status
from equitoken.cli.proofs import verify_proof
from equitoken.cli.simulate import simulate
from equitoken.cli.up import up

app = typer.Typer(
    help="Equitoken: tokenized US equities backed 1:1 by shares in custody.", no_args_is_help=True
)
app.command()(up)
app.command()(instruments)
app.command()(mint)
app.command()(redeem)
app.command()(process)
app.command()(reconcile)
app.command("verify-proof")(verify_proof)
app.command()(compare)
app.command()(simulate)
investor_app.command("onboard")(investor_onboard)
investor_app.command("list")(investor_list)
request_app.command("show")(request_show)
request_app.command("list")(request_list)
request_app.command("cancel")(request_cancel)
request_app.command("resolve")(request_resolve)
dev_app.command("fund")(dev_fund)
oracle_app.command("halt")(oracle_halt)
oracle_app.command("resume")(oracle_resume)
oracle_app.command("status")(oracle_status)
app.add_typer(investor_app, name="investor")
app.add_typer(request_app, name="request")
app.add_typer(dev_app, name="dev")
app.add_typer(oracle_app, name="oracle")
