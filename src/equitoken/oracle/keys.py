"""The reporters' signing keys on a local platform: created once in the data directory, then reused."""

import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from equitoken.model.errors import EquitokenError

KEY_DIRECTORY = "oracle"


class ReporterKeyError(EquitokenError, ValueError):
    """A key file that cannot be read as a private key; the message names the file."""

    code = "invalid_reporter_key"


def key_path(data_dir: Path, index: int) -> Path:
    """Return where reporter `index` (from 1) keeps its key: `<data_dir>/oracle/reporter-<index>.key`."""
    return data_dir / KEY_DIRECTORY / f"reporter-{index}.key"


def load_key(path: Path) -> LocalAccount:
    """Read a 0x-hex private key from `path`."""
    try:
        text = path.read_text().strip()
        account: LocalAccount = Account.from_key(text)
    except OSError as error:
        raise ReporterKeyError(f"cannot read reporter key {path}: {error.strerror}") from None
    except (ValueError, TypeError):
        raise ReporterKeyError(f"{path} does not hold a 0x-hex private key") from None
    return account


def reporter_keys(data_dir: Path, count: int) -> list[LocalAccount]:
    """Return `count` reporter keys, creating the missing ones (owner-only files, written once)."""
    if count < 1:
        raise ValueError(f"the oracle needs at least one reporter, not {count}")
    keys = []
    for index in range(1, count + 1):
        path = key_path(data_dir, index)
        if not path.exists():
            create_key(path)
        keys.append(load_key(path))
    return keys


def create_key(path: Path) -> None:
    """Write a new private key to `path` (owner-only), unless another process wrote one there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write("0x" + bytes(Account.create().key).hex() + "\n")
    try:
        # A hard link appears whole or not at all and never replaces a key another process wrote first.
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink()
