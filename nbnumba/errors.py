"""What goes wrong, and what is odd: `NBError` for input nbnumba refuses, `NBWarning` and
`Warner` for input it renders as nanoBragg.c does but says something about."""
import warnings


class NBError(ValueError):
    """Input nbnumba refuses: `message` is one line naming the flag or file; the command prints
    it and exits with `code` (9, what nanoBragg.c uses for every fatal error, unless noted).

    Parameters
    ----------
    message : str
        The line to print.
    code : int, optional
        The command's exit status.
    """

    def __init__(self, message, code=9):
        super().__init__(message)
        self.message = message
        self.code = code


class NBWarning(UserWarning):
    """Odd input rendered as nanoBragg.c renders it (the Python API's form of the command's
    "nbnumba: warning: ..." lines)."""


class Warner:
    """Where warnings about odd input go: `warner(text)` sends the line
    "nbnumba: warning: text" to `sink`, or, with no sink (the Python API), issues an
    NBWarning with that text.  With `strict` set (-strict, NBNUMBA_STRICT=1) the same call
    raises NBError("nbnumba: error: text (refused under -strict)") instead.

    Parameters
    ----------
    sink : callable, optional
        Receives each warning line; None issues Python warnings instead.
    strict : bool, optional
        Refuse instead of warning.
    """

    PREFIX = "nbnumba: warning: "

    def __init__(self, sink=None, strict=False):
        self.sink = sink
        self.strict = strict

    def __call__(self, text):
        if text.startswith(self.PREFIX):
            text = text[len(self.PREFIX):]
        if self.strict:
            raise NBError("nbnumba: error: %s (refused under -strict)" % text)
        if self.sink is None:
            warnings.warn(text, NBWarning, stacklevel=2)
        else:
            self.sink(self.PREFIX + text)

    def note(self, text):
        """A line that is information, not a warning (never an error): the sink's, or nothing."""
        if self.sink is not None:
            self.sink(text)
