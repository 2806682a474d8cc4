"""The issuer's view of a Solana cluster: its stock mints, the keys that act for it, and what the
workflow and the registry do there (the `TokenChain` of Solana).

A holder's tokens sit in the associated token account of its wallet. Under `permissioned` and
`restricted` a new account starts frozen (DefaultAccountState); registering a verified wallet
creates its accounts and, under `permissioned`, thaws them. Under `restricted` they stay frozen and
the agents thaw, act and freeze again in one transaction (see `chain.solana.agent`). Freezing an
account is how a sanction or a frozen investor reaches Solana. A redemption burns through the
permanent delegate: the participant's signed request is its consent, as an EVM approval is.
"""

from dataclasses import dataclass, field
from datetime import datetime

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.chain.solana.agent import burn_from_holder, mint_to_holder
from equitoken.chain.solana.chain import SolanaChain, parse_pubkey
from equitoken.chain.solana.deployment import SolanaDeployment
from equitoken.chain.solana.stock_mint import MintAuthorities
from equitoken.chain.solana.token2022 import (
    AccountState,
    associated_token_address,
    create_associated_token_account,
    freeze_account,
    thaw_account,
    update_multiplier,
)
from equitoken.durable.solana_outbox import SolanaCall, SolanaOutbox
from equitoken.issuer.errors import InvalidRequestError
from equitoken.model.instrument import ComplianceProfile
from equitoken.model.multiplier import Multiplier


@dataclass
class SolanaIssuerChain:
    """One Solana cluster the issuer issues on: `payer` pays every fee and rent, `authorities` hold
    each mint's authorities, `profiles` says each ticker's compliance profile."""

    chain: SolanaChain
    deployment: SolanaDeployment
    authorities: MintAuthorities
    payer: Keypair
    profiles: dict[str, ComplianceProfile]
    outbox: SolanaOutbox = field(init=False)

    family = "Solana"
    has_reserve_feed = False

    def __post_init__(self) -> None:
        self.outbox = SolanaOutbox(self.chain)

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def tickers(self) -> list[str]:
        return self.deployment.tickers

    def parse_wallet(self, text: str) -> str:
        try:
            return str(parse_pubkey(text, "wallet"))
        except ValueError as exc:
            raise InvalidRequestError(f"{exc}, as chain {self.chain_id} (Solana) needs") from None

    def token_account(self, ticker: str, wallet: str) -> Pubkey:
        """Return the associated token account of `wallet` for `ticker`."""
        return associated_token_address(Pubkey.from_string(wallet), self.deployment.mint(ticker))

    def multiplier(self, ticker: str) -> int:
        return self.chain.multiplier(self.deployment.mint(ticker)).value

    def supply(self, ticker: str) -> int:
        return self.chain.mint(self.deployment.mint(ticker)).supply

    def balance(self, ticker: str, wallet: str) -> int:
        return self.chain.holder_balance(self.deployment.mint(ticker), Pubkey.from_string(wallet))

    def redemption_shortfall(self, ticker: str, wallet: str, tokens: int) -> str | None:
        account = self.chain.token_account(self.token_account(ticker, wallet))
        held = 0 if account is None else account.amount
        if held < tokens:
            return (
                f"wallet {wallet} holds {held} {ticker} token units on Solana, the redemption needs {tokens}"
            )
        if account is not None and account.state is AccountState.FROZEN and not self._restricted(ticker):
            return f"wallet {wallet}'s {ticker} token account on Solana is frozen"
        return None

    def mint_call(self, ticker: str, wallet: str, tokens: int) -> SolanaCall:
        mint, account = self.deployment.mint(ticker), self.token_account(ticker, wallet)
        instructions = mint_to_holder(
            mint, self.authorities, account, tokens, restricted=self._restricted(ticker)
        )
        a = self.authorities
        return SolanaCall(instructions, self.payer, (a.minter, a.freezer))

    def burn_call(self, ticker: str, wallet: str, tokens: int) -> SolanaCall:
        mint, account = self.deployment.mint(ticker), self.token_account(ticker, wallet)
        instructions = burn_from_holder(
            mint, self.authorities, account, tokens, restricted=self._restricted(ticker)
        )
        a = self.authorities
        return SolanaCall(instructions, self.payer, (a.delegate, a.freezer))

    def multiplier_call(self, ticker: str, multiplier: int, effective_at: int) -> SolanaCall:
        """Return ScaledUiAmount's UpdateMultiplier: the largest double not above `multiplier`, so a
        Solana holder never shows more than the same raw units on EVM."""
        authority = self.authorities.multiplier
        double = Multiplier(multiplier).to_double()
        instruction = update_multiplier(
            self.deployment.mint(ticker), authority.pubkey(), double, effective_at
        )
        return SolanaCall([instruction], self.payer, (authority,))

    def attestation_call(self, ticker: str, reserve: int, observed_at: int) -> None:
        return None  # no reserve feed on Solana: the attestation is the record the proofs publish

    def observation_time(self, now: datetime) -> int:
        return int(now.timestamp())

    def reserve_observed_at(self, ticker: str) -> int | None:
        return None

    # -- the registry's side

    def registration_call(self, ticker: str, wallet: str, *, verified: bool) -> SolanaCall:
        """Return the call that creates `wallet`'s token account, thawed if `verified` and the profile
        lets holders move tokens; nothing is done to an account already in that state."""
        owner, mint = Pubkey.from_string(wallet), self.deployment.mint(ticker)
        instructions = [create_associated_token_account(self.payer.pubkey(), owner, mint)]
        account = self.chain.token_account(self.token_account(ticker, wallet))
        frozen = self.chain.mint(mint).default_account_state is AccountState.FROZEN
        if account is not None:
            frozen = account.state is AccountState.FROZEN
        thawed = verified and not self._restricted(ticker)
        if frozen and thawed:
            instructions.append(thaw_account(self.token_account(ticker, wallet), mint, self._freezer))
        elif not frozen and not thawed:
            instructions.append(freeze_account(self.token_account(ticker, wallet), mint, self._freezer))
        return SolanaCall(instructions, self.payer, (self.authorities.freezer,))

    @property
    def _freezer(self) -> Pubkey:
        return self.authorities.freezer.pubkey()

    def _restricted(self, ticker: str) -> bool:
        return self.profiles.get(ticker) is ComplianceProfile.RESTRICTED
