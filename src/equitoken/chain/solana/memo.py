"""The SPL Memo program (v3): a UTF-8 note in a transaction, signed by the keys it names.

The program checks that the text is valid UTF-8 and that every account the instruction names signed
the transaction, and logs the text; it changes no account. LiteSVM ships it. A memo is how a holder
says, in the same transaction as a burn, what the burn is for (see `bridge.solana_burns`).
"""

from collections.abc import Sequence

from solders.instruction import AccountMeta, CompiledInstruction, Instruction
from solders.message import Message, MessageV0, MessageV1
from solders.pubkey import Pubkey

MEMO_PROGRAM_ID = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")

AnyMessage = Message | MessageV0 | MessageV1  # what a `VersionedTransaction` may carry


def memo(text: str, signers: Sequence[Pubkey] = ()) -> Instruction:
    """Return a Memo instruction carrying `text`, which each of `signers` must sign."""
    accounts = [AccountMeta(signer, is_signer=True, is_writable=False) for signer in signers]
    return Instruction(MEMO_PROGRAM_ID, text.encode(), accounts)


def memo_text(message: AnyMessage, instruction: CompiledInstruction) -> str | None:
    """Return the text of `instruction` if it is a Memo of `message` with valid UTF-8, else None."""
    keys = message.account_keys
    if instruction.program_id_index >= len(keys) or keys[instruction.program_id_index] != MEMO_PROGRAM_ID:
        return None
    try:
        return bytes(instruction.data).decode()
    except UnicodeDecodeError:
        return None
