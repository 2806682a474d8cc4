"""The one base of every error the platform raises on purpose.

Each error has a stable `code` a program can branch on (the API returns it in its problem+json
body, the CLI prints it) and a message that names the problem and says what to do. Subclasses also
derive from the built-in kind they are (`ValueError` for bad input, `LookupError` for an unknown id,
`RuntimeError` for a component that cannot run), so callers may catch either.
"""


class EquitokenError(Exception):
    """An error with a stable `code` and a message a person can act on."""

    code: str = "error"

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class InsufficientFundsError(EquitokenError, ValueError):
    """A wallet or an account holds less than what was asked of it; nothing moved."""

    code = "insufficient_funds"
