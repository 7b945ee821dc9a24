"""The command's stdout and stderr, behaving as nanoBragg.c's stdio streams do when they are
odd: closed (`>&-`), a pipe whose reader has gone (`| head -1`), a full device (`>/dev/full`).

- `Stdout` buffers as the C's stdout does: line by line on a terminal, otherwise in blocks of
  the stream's st_blksize (4096 bytes on a pipe), written when a block fills, after each
  progress line (the C's `fflush(stdout)`, nanoBragg.c line 3083) and at the end.  So a pipe
  reader that has gone is noticed where the C notices it, and the write that notices raises
  `interrupt.Interrupted(SIGPIPE)`: the command dies of SIGPIPE (141 in a shell), as the C.
- Any other failure to write stdout (a full device, an I/O error, a stdout closed when the
  command started) is one the C ignores: its text is lost and the run goes on.  nbnumba does
  the same and says so once, through `on_error` (the run's errors.Warner: under -strict the
  run stops there).  A stdout that is a file or a device gets its first line at once, so a
  full device is noticed before any output file is written.
- `err_line` writes one stderr line unbuffered, as the C's stderr; a failure there is ignored
  (the C's perror would die of SIGPIPE on a closed pipe, but nbnumba's stderr also carries
  lines the C does not print, and those must not end a run the C completes).
- `reserve_standard_fds` puts /dev/null on a closed fd 0, 1 or 2, so that no output file
  opened later lands on it (the C's first fopen would get fd 1 after `>&-`).
"""
import os
import signal
import stat
import sys

from nbnumba import interrupt

PROGRESS_END = "% done\n"       # the C flushes stdout after each progress line
DEFAULT_BLOCK = 8192            # glibc's BUFSIZ, for a stream that reports no st_blksize


def reserve_standard_fds():
    """Open /dev/null on each of fds 0, 1, 2 that is closed; return the set of those fds."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    return closed


def err_line(text, fd=2):
    """Write text and a newline to stderr (or fd) at once; a failed write is ignored."""
    try:
        os.write(fd, os.fsencode(text + "\n"))
    except OSError:
        pass


class Stdout:
    """nanoBragg.c's stdout on fd 1.  `write(text)` buffers as the C's stdio; `flush()`
    writes the buffer out.  `closed`: fd 1 was closed when the command started (its text is
    discarded).  `on_error(text)` hears once about a write that failed for any reason but a
    closed pipe (default: nothing)."""

    def __init__(self, fd=1, closed=False, on_error=None):
        self.fd = fd
        self.on_error = on_error if on_error is not None else (lambda text: None)
        self.buffer = bytearray()
        self.failed = None          # the reason writes are discarded, once known
        self.reported = False
        self.closed = closed
        self.line_buffered = False
        self.block = DEFAULT_BLOCK
        self.probe = False          # write the first line at once
        if not closed:
            st = os.fstat(fd)
            self.line_buffered = os.isatty(fd)
            self.block = st.st_blksize or DEFAULT_BLOCK
            self.probe = stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode)

    def write(self, text):
        if self.closed:
            self._fail("standard output is closed")
            return
        if self.failed:
            return
        data = os.fsencode(text)        # the bytes the C prints (file names as given)
        self.buffer += data
        if self.probe or text.endswith(PROGRESS_END) or (self.line_buffered and b"\n" in data):
            self.probe = False
            self.flush()
        elif len(self.buffer) >= self.block:
            self._write_out(len(self.buffer) - len(self.buffer) % self.block)

    def flush(self):
        self._write_out(len(self.buffer))

    def _write_out(self, count):
        """Write the first count bytes of the buffer (stdio writes whole blocks)."""
        while count > 0 and not self.failed:
            try:
                n = os.write(self.fd, self.buffer[:count])
            except BrokenPipeError:
                self.failed = "broken pipe"
                self.buffer.clear()
                raise interrupt.Interrupted(signal.SIGPIPE) from None
            except OSError as err:
                self.buffer.clear()
                self._fail("cannot write standard output (%s)" % err.strerror)
                return
            del self.buffer[:n]
            count -= n

    def _fail(self, reason):
        self.failed = reason
        if not self.reported:
            self.reported = True
            self.on_error("%s: its text is lost (nanoBragg.c ignores that too)" % reason)


def command_stdout():
    """Reserve the standard fds, then return the command's Stdout on fd 1: closed if it was
    closed when the interpreter started (Python then sets sys.stdout to None, whatever fd 1
    holds by now)."""
    closed = 1 in reserve_standard_fds() or sys.__stdout__ is None
    return Stdout(1, closed=closed)
