"""What a holder owns under each model: the one part of the report that is not measured, kept as data.

Each entry says what the holder has a claim on, against whom, and which of a shareholder's rights
(votes, dividends, a share in a liquidation) reach them, as the platform's contracts and venues give
them on this branch.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Ownership:
    """A model's legal claim, its counterparty and the shareholder rights it passes on."""

    claim: str
    counterparty: str
    rights: str


OWNERSHIP: dict[str, Ownership] = {
    "open_token_amm": Ownership(
        claim="A backed token: a claim on one share (times the UI multiplier) the issuer holds in custody, "
        "redeemable at the issuer by a verified participant; anyone may hold and trade it.",
        counterparty="The issuer and its custodian (reserves attested on-chain); the pool only for the "
        "trade.",
        rights="Economic rights: splits through the multiplier, dividends paid in USDC (withheld at the "
        "holder's rate) or reinvested; no vote.",
    ),
    "open_token_book": Ownership(
        claim="The same backed token as on the AMM, bought on the central limit order book.",
        counterparty="The issuer and its custodian; the exchange for the trade and the funds it holds.",
        rights="Economic rights as the token's; no vote.",
    ),
    "permissioned_primary": Ownership(
        claim="A backed token minted and redeemed at the issuer against custody shares by a KYC'd "
        "participant's verified wallet; a permissioned token goes only between such wallets (NFLX and MSFT "
        "are open tokens in the catalogue: the path, costs and timing are the same).",
        counterparty="The issuer, its broker and custodian.",
        rights="Economic rights: splits through the multiplier, dividends in USDC or reinvested; no vote.",
    ),
    "order_processor": Ownership(
        claim="A backed token delivered against an escrowed order the operator fills at the broker "
        "(Dinari dShares model).",
        counterparty="The issuer as operator, its broker and custodian; the processor escrows until the "
        "fill.",
        rights="Economic rights as the token's; no vote.",
    ),
    "attestation_mint": Ownership(
        claim="A backed token minted or redeemed at once by a verified user against a price the issuer's "
        "desk signed; the issuer hedges at its broker afterwards from an inventory of unissued shares.",
        counterparty="The issuer, its quote desk, broker and custodian (custody covers the supply "
        "throughout).",
        rights="Economic rights as the token's; no vote.",
    ),
    "exchange_ledger": Ownership(
        claim="A balance in the exchange's books, backed by shares the issuer holds in custody for the "
        "exchange's ledger and counted in its proofs of liabilities (one leaf per account).",
        counterparty="The exchange (its books) and the issuer (custody); no token, so nothing to withdraw.",
        rights="No shareholder rights; splits scale the balance, dividends are not passed through.",
    ),
    "perp": Ownership(
        claim="A position: profit or loss on the token's price, settled in USDC from the venue's vault.",
        counterparty="The vault's liquidity providers, bounded by each position's reservation.",
        rights="None: no share, no dividend (the price drops ex-dividend), no vote; funding paid or "
        "received.",
    ),
    "synthetic": Ownership(
        claim="A synthetic token minted against the minter's USDC collateral; its holder owns the token, "
        "the minter owes its value.",
        counterparty="The minter's collateral (liquidated below 150%); the vault's bad debt beyond it.",
        rights="None: no share, no dividend, no vote.",
    ),
    "cfd": Ownership(
        claim="A contract with the venue on the underlying's price, margined in USDC.",
        counterparty="The CFD venue itself.",
        rights="None: splits adjust the position, dividends pay nothing on this venue, no vote; overnight "
        "financing charged on longs.",
    ),
    "lending": Ownership(
        claim="The backed token kept as collateral in the lending market, against a USDC loan.",
        counterparty="The market's suppliers for the loan; the issuer for the token.",
        rights="Economic rights of the token stay with the borrower's collateral position; dividends go to "
        "the market contract holding the tokens; interest accrues on the loan.",
    ),
}
