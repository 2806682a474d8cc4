"""A deployed contract whose ABI functions read as methods: ``token.balanceOf(holder)`` calls a view,
``token.transfer(to, amount, sender=holder)`` sends a transaction."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from equitoken.chain.evm.abi import (
    AbiError,
    AbiItem,
    UnknownFunctionError,
    encode_call,
    find_event,
    find_function,
)
from equitoken.chain.evm.types import Event, Receipt
from equitoken.chain.records import BlockId
from equitoken.model.address import checksum

if TYPE_CHECKING:
    from equitoken.chain.evm.chain import EvmChain


class ContractFunction:
    """One ABI function of a deployed contract. Calling it reads a view or sends a transaction."""

    def __init__(self, contract: "Contract", name: str) -> None:
        self.contract = contract
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.contract.name}.{self.name} at {self.contract.address}>"

    def abi_for(self, nargs: int) -> AbiItem:
        """Return the ABI item of this function for ``nargs`` arguments."""
        return find_function(self.contract.abi, self.name, nargs, self.contract.name)

    def __call__(self, *args: Any, sender: str | None = None, value: int = 0, gas: int | None = None) -> Any:
        """Call a view/pure function, or send a transaction from ``sender`` for any other function."""
        item = self.abi_for(len(args))
        if item.get("stateMutability") in ("view", "pure"):
            return self.contract.chain.call(self.contract.address, item, args, sender=sender)
        if sender is None:
            raise AbiError(
                f"{self.contract.name}.{self.name} changes state: pass sender=<address> to send it, "
                "or use .call(...) to simulate it"
            )
        return self.contract.chain.send(
            self.contract.address, item, args, sender=sender, value=value, gas=gas
        )

    def call(self, *args: Any, sender: str | None = None, value: int = 0, block: BlockId = "latest") -> Any:
        """Run the function as a call (no transaction), even if it is not a view."""
        item = self.abi_for(len(args))
        return self.contract.chain.call(
            self.contract.address, item, args, sender=sender, value=value, block=block
        )

    def transact(self, *args: Any, sender: str, value: int = 0, gas: int | None = None) -> Receipt:
        """Send the function in a transaction and return the receipt."""
        item = self.abi_for(len(args))
        return self.contract.chain.send(
            self.contract.address, item, args, sender=sender, value=value, gas=gas
        )

    def estimate_gas(self, *args: Any, sender: str, value: int = 0) -> int:
        """Estimate the gas a transaction calling the function would use."""
        data = self.encode(*args)
        return self.contract.chain.estimate_gas(
            self.contract.address, data, sender=sender, value=value, context=self.name
        )

    def encode(self, *args: Any) -> bytes:
        """Return the calldata for ``args``."""
        return encode_call(self.abi_for(len(args)), args)


class Contract:
    """A deployed contract: ABI functions are attributes (``token.balanceOf(holder)``)."""

    def __init__(
        self, chain: "EvmChain", address: str, abi: Sequence[AbiItem], name: str = "contract"
    ) -> None:
        self.chain = chain
        self.address = checksum(address)
        self.abi = list(abi)
        self.name = name
        self._functions = {str(i["name"]) for i in self.abi if i.get("type") == "function"}

    def __repr__(self) -> str:
        return f"<{self.name} at {self.address}>"

    @property
    def functions(self) -> list[str]:
        """Return the names of the contract's functions."""
        return sorted(self._functions)

    def __getattr__(self, name: str) -> ContractFunction:
        if name.startswith("_") or name not in self._functions:
            if name.startswith("__"):
                raise AttributeError(name)
            raise self._unknown(name)
        return ContractFunction(self, name)

    def function(self, name: str) -> ContractFunction:
        """Return a function by name (for names that clash with this class's attributes)."""
        if name not in self._functions:
            raise self._unknown(name)
        return ContractFunction(self, name)

    def _unknown(self, name: str) -> UnknownFunctionError:
        return UnknownFunctionError(
            f"{self.name} has no function {name!r}; it has: {', '.join(self.functions)}"
        )

    def get_logs(self, event: str, from_block: BlockId = 0, to_block: BlockId = "latest") -> list[Event]:
        """Return the contract's ``event`` logs in a block range, decoded."""
        return self.chain.get_logs(self.address, find_event(self.abi, event, self.name), from_block, to_block)

    def decode_logs(self, receipt: Receipt) -> list[Event]:
        """Return the events this contract emitted in ``receipt``, decoded."""
        return self.chain.decode_logs(receipt, self.abi, self.address)
