"""The exception the command line turns into an error line and an exit code, and the route
for warnings about odd input (one stderr line each; errors under -strict)."""


class NBError(Exception):
    """A user-facing failure: `message` is printed on one line, the process exits with `code`.

    Code 9 is what nanoBragg.c uses for every fatal error (bad file, usage)."""

    def __init__(self, message, code=9):
        super().__init__(message)
        self.message = message
        self.code = code


class Warner:
    """Where warnings about odd input go: `warner(text)` sends "nbnumba: warning: text" to
    `sink` (one line each).  With `strict` set (-strict, NBNUMBA_STRICT=1) the same call
    raises NBError("nbnumba: error: text (refused under -strict)") instead."""

    PREFIX = "nbnumba: warning: "

    def __init__(self, sink=None, strict=False):
        self.sink = sink if sink is not None else (lambda line: None)
        self.strict = strict

    def __call__(self, text):
        if text.startswith(self.PREFIX):
            text = text[len(self.PREFIX):]
        if self.strict:
            raise NBError("nbnumba: error: %s (refused under -strict)" % text)
        self.sink(self.PREFIX + text)
