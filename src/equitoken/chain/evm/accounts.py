"""Keys that sign transactions: a registry of local signers, keyed by address.

Local development uses anvil's well-known mnemonic accounts (``SignerRegistry.anvil()``); real
networks take private keys from configuration or the environment (``SignerRegistry.from_env()``).
Keys never leave the process: transactions are signed here and sent raw.
"""

import functools
import os
import re
import threading
from collections.abc import Iterable, Iterator

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount

from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""The mnemonic anvil (and hardhat) derive their default dev accounts from. Public: never fund it."""

DEFAULT_DERIVATION_PATH = "m/44'/60'/0'/0/{index}"
PRIVATE_KEYS_ENV = "EQUITOKEN_PRIVATE_KEYS"


class UnknownSignerError(EquitokenError, LookupError):
    """No private key is registered for the address a transaction should be sent from."""

    code = "unknown_signer"

    def __init__(self, address: str, known: int) -> None:
        super().__init__(
            f"no signer registered for {address} ({known} signers known); "
            f"add its private key (e.g. in ${PRIVATE_KEYS_ENV}) or send from a registered address"
        )
        self.address = address


@functools.lru_cache(maxsize=8)
def mnemonic_keys(mnemonic: str, count: int, path: str = DEFAULT_DERIVATION_PATH) -> tuple[bytes, ...]:
    """Derive ``count`` private keys from a BIP-39 mnemonic along ``path`` (``{index}`` is filled in)."""
    seed = seed_from_mnemonic(mnemonic, "")
    return tuple(bytes(key_from_seed(seed, path.format(index=i))) for i in range(count))


class SignerRegistry:
    """Private keys by address. Thread-safe."""

    def __init__(self, private_keys: Iterable[str | bytes] = ()) -> None:
        self._accounts: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()
        for key in private_keys:
            self.add(key)

    @classmethod
    def from_mnemonic(
        cls, mnemonic: str, count: int = 10, path: str = DEFAULT_DERIVATION_PATH
    ) -> "SignerRegistry":
        """Build a registry with the first ``count`` accounts of ``mnemonic``."""
        return cls(mnemonic_keys(mnemonic, count, path))

    @classmethod
    def anvil(cls, count: int = 10) -> "SignerRegistry":
        """Build a registry with anvil's default dev accounts (local use only)."""
        return cls.from_mnemonic(ANVIL_MNEMONIC, count)

    @classmethod
    def from_env(cls, variable: str = PRIVATE_KEYS_ENV) -> "SignerRegistry":
        """Build a registry from 0x-hex private keys in an environment variable, comma or space separated."""
        raw = os.environ.get(variable, "")
        return cls(key for key in re.split(r"[\s,]+", raw) if key)

    def add(self, private_key: str | bytes) -> str:
        """Register a private key; return its checksum address."""
        try:
            account: LocalAccount = Account.from_key(private_key)
        except (ValueError, TypeError) as exc:
            raise ValueError("invalid private key (expected 32 bytes or 0x-prefixed hex)") from exc
        with self._lock:
            self._accounts[account.address] = account
        return str(account.address)

    def get(self, address: str) -> LocalAccount:
        """Return the signer for ``address``; raise :class:`UnknownSignerError` if there is none."""
        key = checksum(address)
        with self._lock:
            account = self._accounts.get(key)
            known = len(self._accounts)
        if account is None:
            raise UnknownSignerError(key, known)
        return account

    @property
    def addresses(self) -> list[str]:
        """Return the registered addresses, in registration order."""
        with self._lock:
            return list(self._accounts)

    def __contains__(self, address: object) -> bool:
        try:
            key = checksum(address)  # type: ignore[arg-type]  # anything that is no address is absent
        except ValueError:
            return False
        with self._lock:
            return key in self._accounts

    def __iter__(self) -> Iterator[str]:
        return iter(self.addresses)

    def __len__(self) -> int:
        with self._lock:
            return len(self._accounts)
