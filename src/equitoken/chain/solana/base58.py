"""Bitcoin's base58 alphabet, as Solana writes keys, signatures, transactions and instruction data."""

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    """Return `data` in base58; each leading zero byte is one leading "1"."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Return the bytes `text` writes in base58; raise ValueError naming a character outside it."""
    number = 0
    for character in text:
        if character not in _INDEX:
            raise ValueError(f"{character!r} is not a base58 character")
        number = number * 58 + _INDEX[character]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
