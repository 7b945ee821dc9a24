"""The one exception type the command line turns into an error line and an exit code."""


class NBError(Exception):
    """A user-facing failure: `message` is printed on one line, the process exits with `code`.

    Code 9 is what nanoBragg.c uses for every fatal error (bad file, usage)."""

    def __init__(self, message, code=9):
        super().__init__(message)
        self.message = message
        self.code = code
