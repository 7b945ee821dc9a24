"""Output files where and as nanoBragg.c's `fopen(path, "wb")` leaves them, never half-written.

The C opens every output (the images, Fdump.bin) with `fopen(path, "wb")`: a symbolic link
is followed and its target written; an existing file keeps its inode, hence its hard links,
owner and mode; a new file gets mode 0666 less the umask; a file it may not write, or a new
file in a folder it may not write, is refused ("ERROR: fopen: Permission denied", exit 9)
and kept.  It then truncates the file and writes it in place, so a full disk, a signal or a
crash leaves a truncated file.

`write_output` gives the C's outcome without the truncation:

- the path is first opened as fopen opens it (write-only, links followed) but neither
  created nor truncated: an error there is the C's refusal, with nothing touched;
- a pipe, a terminal or a device (/dev/null) is written in place, as the C writes it; a
  pipe whose reader has gone ends the run with SIGPIPE, as the C's death there;
- a regular file is written to a hidden temporary file beside it (".NAME.XXXXXX.tmp") that
  is then renamed over it -- the old file or the complete new one, whatever happens, even a
  SIGKILL -- whenever the rename keeps what the C keeps: a new file, or an existing file with
  a single link, no extended attributes (ACLs, security labels) and an owner and mode the
  temporary file can be given;
- any other file (a hard link, a file in a folder that may not be written, another user's
  file, a bind-mounted file, a file on a disk too full for a second copy) is overwritten in
  place: its space is reserved first (posix_fallocate, so that a full disk refuses with the
  file untouched), then the bytes are written and the file cut to length, all with
  SIGINT/SIGTERM/SIGHUP deferred (interrupt.deferred), so no signal the command handles
  cuts it in two.  A SIGKILL, a crash or an I/O error in that window can:
  there is no other copy to fall back on.
"""
import contextlib
import errno
import os
import signal
import stat
import tempfile

import numpy as np

from nbnumba import interrupt
from nbnumba.errors import NBError

# posix_fallocate errors that mean "this file system cannot reserve space", not "no space"
# (EBADF: glibc's emulation where the file system has no fallocate, NFS for one, reads the
# file, and fails on a write-only descriptor before it writes anything)
NO_RESERVATION = {errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, errno.EBADF,
                   getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
# errors of the rename way after which an existing file is overwritten in place instead
IN_PLACE_INSTEAD = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EBUSY, errno.EXDEV}


def bytes_of(array):
    """The array's bytes in memory order, without a copy (a byte view of a C-contiguous array)."""
    return memoryview(np.ascontiguousarray(array)).cast("B")


def write_output(path, chunks):
    """Write the byte strings `chunks` to `path` as nanoBragg.c's fopen(path, "wb") would,
    never leaving a truncated or temporary file (see the module docstring for how).

    Raises NBError("ERROR: unable to write PATH: REASON") where the C's fopen fails or the
    write cannot be completed; the file at `path` is then as it was."""
    path = os.fspath(path)
    interrupt.checkpoint()
    try:
        data = list(chunks)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
        except FileNotFoundError:   # no file (or a dangling link): fopen would create it,
            if not path:            # unless there is no name at all
                raise
            if path.endswith("/"):  # or the name of a folder
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)) from None
            _rename_into_place(os.path.realpath(path), data, None)
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                _stream(fd, data)
            elif not _keeps_identity(fd, st) or not _rename_into_place(os.path.realpath(path), data, st):
                _overwrite(fd, st, data)
        finally:
            os.close(fd)
    except OSError as err:
        raise NBError(f"ERROR: unable to write {path}: {err.strerror}") from None


def _keeps_identity(fd, st):
    """Whether a new inode could stand for the file open on fd: one link, no xattrs."""
    if st.st_nlink != 1:
        return False
    try:
        return not os.listxattr(fd)
    except (OSError, AttributeError):   # no xattr support: nothing to lose
        return True


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _rename_into_place(target, data, st):
    """Write data to a temporary file in target's folder and rename it to target.

    st: the existing file's stat (its owner and mode are given to the new one), or None for
    a new file (mode 0666 less the umask).  For an existing file, returns False, leaving it
    untouched, where this way is closed and writing in place may still work (IN_PLACE_INSTEAD:
    a folder that may not be written, an owner that cannot be given, no room for a second
    copy, a bind-mounted file) or the path resolves to another file; other errors raise."""
    folder, name = os.path.split(target)
    tmp = None
    try:
        try:
            with interrupt.deferred():      # the name is known as soon as the file exists
                fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + name + ".", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                if st is not None and not _take_identity(f.fileno(), target, st):
                    return False
                os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
                for chunk in data:
                    f.write(chunk)
            with interrupt.deferred():      # renamed and forgotten together
                os.replace(tmp, target)
                tmp = None
        except OSError as err:
            if st is None or err.errno not in IN_PLACE_INSTEAD:
                raise
            return False
        return True
    finally:
        if tmp is not None:
            with interrupt.deferred(), contextlib.suppress(OSError):
                os.unlink(tmp)


def _take_identity(fd, target, st):
    """Give the temporary file on fd the owner of the file st describes, if target is it."""
    if not os.path.samestat(os.stat(target), st):
        return False
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        os.fchown(fd, st.st_uid, st.st_gid)
    return True


def _overwrite(fd, st, data):
    """Overwrite the regular file open on fd in place, signals deferred throughout: reserve
    the space (on failure the file is given back its size), write, cut to length."""
    size = sum(len(chunk) for chunk in data)
    with interrupt.deferred():
        if size > 0:
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as err:
                if err.errno not in NO_RESERVATION:
                    if os.fstat(fd).st_size != st.st_size:
                        os.ftruncate(fd, st.st_size)
                    raise
        offset = 0
        for chunk in data:
            view = memoryview(chunk).cast("B")
            while view:
                n = os.pwrite(fd, view, offset)
                offset += n
                view = view[n:]
        os.ftruncate(fd, size)


def _stream(fd, data):
    """Write data to a pipe, terminal or device in place, as the C's fwrite does."""
    for chunk in data:
        view = memoryview(chunk).cast("B")
        while view:
            try:
                n = os.write(fd, view)
            except BrokenPipeError:     # the C dies of SIGPIPE here
                raise interrupt.Interrupted(signal.SIGPIPE) from None
            view = view[n:]
