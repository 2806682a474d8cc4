"""A stock token as an SPL Token-2022 mint, configured as Backed's xStocks are.

Extensions: MetadataPointer to the mint's own TokenMetadata (name, symbol, URI, and the ISIN and
terms URI as additional fields), PermanentDelegate (the compliance agent's forced transfer and
recovery), DefaultAccountState (new token accounts start frozen unless the profile is `open`: a
wallet's account is thawed once the registry verifies it), ScaledUiAmount (the UI multiplier),
Pausable, and a freeze authority (sanctions and freezes). Each authority is its own key, as each
role is on EVM.
"""

import hashlib
from dataclasses import dataclass, fields

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

from equitoken.chain.solana.chain import SolanaChain
from equitoken.chain.solana.token2022 import (
    TOKEN_2022_PROGRAM_ID,
    AccountState,
    ExtensionType,
    initialize_default_account_state,
    initialize_metadata_pointer,
    initialize_mint2,
    initialize_pausable,
    initialize_permanent_delegate,
    initialize_scaled_ui_amount,
    initialize_token_metadata,
    metadata_space,
    mint_space,
    update_token_metadata_field,
)

STOCK_DECIMALS = 8
_EXTENSIONS = (
    ExtensionType.METADATA_POINTER,
    ExtensionType.PERMANENT_DELEGATE,
    ExtensionType.DEFAULT_ACCOUNT_STATE,
    ExtensionType.SCALED_UI_AMOUNT,
    ExtensionType.PAUSABLE,
)


@dataclass(frozen=True)
class MintAuthorities:
    """The keys that hold a stock mint's authorities, one per role."""

    minter: Keypair
    freezer: Keypair
    pauser: Keypair
    multiplier: Keypair
    metadata: Keypair
    delegate: Keypair

    @classmethod
    def generate(cls) -> "MintAuthorities":
        return cls(Keypair(), Keypair(), Keypair(), Keypair(), Keypair(), Keypair())

    @classmethod
    def from_seed(cls, seed: bytes) -> "MintAuthorities":
        """Derive every role's key from `seed` (a local chain's, as anvil's accounts come from a mnemonic)."""
        return cls(*(derive_keypair(seed, role.name) for role in fields(cls)))


def derive_keypair(seed: bytes, name: str) -> Keypair:
    """Return the key named `name` derived from `seed`."""
    return Keypair.from_seed(hashlib.sha256(seed + b"/" + name.encode()).digest())


@dataclass(frozen=True)
class StockMintTerms:
    """What the mint's metadata says of the instrument."""

    name: str
    symbol: str
    uri: str
    isin: str
    terms_uri: str
    frozen_by_default: bool


def create_stock_mint(
    chain: SolanaChain, payer: Keypair, mint: Keypair, authorities: MintAuthorities, terms: StockMintTerms
) -> Pubkey:
    """Create and configure the mint at `mint`'s address in one transaction; return the address."""
    address = mint.pubkey()
    fields = [
        ("name", terms.name),
        ("symbol", terms.symbol),
        ("uri", terms.uri),
        ("isin", terms.isin),
        ("terms_uri", terms.terms_uri),
    ]
    space = mint_space(_EXTENSIONS)
    # The metadata is written after the mint is initialised; the program grows the account, so the
    # rent for its final size is paid up front.
    lamports = chain.rent_exempt(space + metadata_space(fields))
    state = AccountState.FROZEN if terms.frozen_by_default else AccountState.INITIALIZED
    metadata_authority = authorities.metadata.pubkey()
    instructions = [
        create_account(
            CreateAccountParams(
                from_pubkey=payer.pubkey(),
                to_pubkey=address,
                lamports=lamports,
                space=space,
                owner=TOKEN_2022_PROGRAM_ID,
            )
        ),
        initialize_metadata_pointer(address, metadata_authority, address),
        initialize_permanent_delegate(address, authorities.delegate.pubkey()),
        initialize_default_account_state(address, state),
        initialize_scaled_ui_amount(address, authorities.multiplier.pubkey(), 1.0),
        initialize_pausable(address, authorities.pauser.pubkey()),
        initialize_mint2(address, STOCK_DECIMALS, authorities.minter.pubkey(), authorities.freezer.pubkey()),
        initialize_token_metadata(
            address, metadata_authority, authorities.minter.pubkey(), terms.name, terms.symbol, terms.uri
        ),
        *(update_token_metadata_field(address, metadata_authority, key, value) for key, value in fields[3:]),
    ]
    chain.send(
        instructions,
        payer,
        mint,
        authorities.minter,
        authorities.metadata,
        context=f"creating {terms.symbol}",
    )
    return address
