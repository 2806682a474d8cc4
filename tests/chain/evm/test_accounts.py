"""The signer registry: anvil's dev accounts, keys from the environment, unknown senders."""

import pytest

from equitoken.chain.evm.accounts import SignerRegistry, UnknownSignerError

# Anvil's first two dev accounts (public test keys of the "test ... junk" mnemonic).
_FIRST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
_FIRST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
_SECOND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_anvil_registry_has_the_well_known_dev_accounts() -> None:
    registry = SignerRegistry.anvil()

    assert len(registry) == 10
    assert registry.addresses[:2] == [_FIRST, _SECOND]


def test_lookup_accepts_any_address_case() -> None:
    registry = SignerRegistry([_FIRST_KEY])

    assert registry.get(_FIRST.lower()).address == _FIRST
    assert _FIRST.lower() in registry


def test_unknown_sender_is_named() -> None:
    registry = SignerRegistry([_FIRST_KEY])

    with pytest.raises(UnknownSignerError, match=_SECOND) as caught:
        registry.get(_SECOND)

    assert caught.value.code == "unknown_signer"


def test_not_an_address_is_rejected() -> None:
    with pytest.raises(ValueError, match="not an EVM address: 'bob'"):
        SignerRegistry().get("bob")


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    second_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    monkeypatch.setenv("EQUITOKEN_PRIVATE_KEYS", f"{_FIRST_KEY}, {second_key}\n")

    registry = SignerRegistry.from_env()

    assert registry.addresses == [_FIRST, _SECOND]


def test_invalid_private_key_is_rejected_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="invalid private key") as caught:
        SignerRegistry(["0x1234"])

    assert "1234" not in str(caught.value)
