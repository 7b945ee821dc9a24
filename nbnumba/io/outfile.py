"""Output files where and as nanoBragg.c's `fopen(path, "wb")` leaves them, never half-written,
and a run's files committed together.

The C opens every output (the images, Fdump.bin) with `fopen(path, "wb")`: a symbolic link
is followed and its target written; an existing file keeps its inode, hence its hard links,
owner and mode; a new file gets mode 0666 less the umask; a file it may not write, or a new
file in a folder it may not write, is refused and kept.  It then truncates the file and
writes it in place, so a full disk, a signal or a crash leaves a truncated file.

`Outputs` gives the C's outcome without the truncation, for all of a run's files at once:
`add` prepares a file where the C opens it, `commit` puts every prepared file in place when
the run has succeeded, and a run that fails or is interrupted before that (`discard`, or
leaving the `with` block by an exception) touches no file: a refusal of the third image
leaves the first two as they were.  Pipes, terminals and devices are the exception: they
are written when added, as the C writes them (their bytes cannot be taken back).  Names are relative to the run's output folder (a
folders.Folder, by descriptor; absolute names stay absolute).  How each file is prepared:

- the path is first opened as fopen opens it (write-only, links followed) but neither
  created nor truncated: an error there is the C's refusal (NBError), with nothing touched;
- a pipe, a terminal or a device (/dev/null) is written in place when it is added, as the C
  writes it; a pipe whose reader has gone ends the run with SIGPIPE, as the C's death there;
- a regular file is written to a hidden temporary file beside it (".NAME.XXXXXXXX.tmp") that
  the commit renames over it -- the old file or the complete new one, whatever happens, even
  a SIGKILL -- whenever the rename keeps what the C keeps: a new file, or an existing file with
  a single link, no extended attributes (ACLs, security labels) and an owner and mode the
  temporary file can be given;
- any other file (a hard link, a file in a folder that may not be written, another user's
  file, a bind-mounted file, a file on a disk too full for a second copy) has its space
  reserved (posix_fallocate, so that a full disk refuses with the file untouched) and is
  overwritten in place at the commit: the bytes written and the file cut to length with
  SIGINT/SIGTERM/SIGHUP deferred (interrupt.deferred), so no signal the command handles cuts
  it in two.  A SIGKILL, a crash or an I/O error in that window can: there is no other copy.
"""
import contextlib
import errno
import os
import secrets
import signal
import stat

import numpy as np

from nbnumba import interrupt
from nbnumba.errors import NBError
from nbnumba.folders import WORKING

# posix_fallocate errors that mean "this file system cannot reserve space", not "no space"
# (EBADF: glibc's emulation where the file system has no fallocate, NFS for one, reads the
# file, and fails on a write-only descriptor before it writes anything)
NO_RESERVATION = {errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, errno.EBADF,
                  getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
# errors of the rename way after which an existing file is overwritten in place instead
IN_PLACE_INSTEAD = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EBUSY, errno.EXDEV}
MAX_LINKS = 40          # symbolic links followed for one name (the kernel's ELOOP limit)
_OPEN_FLAGS = os.O_WRONLY | os.O_NOCTTY


def bytes_of(array):
    """The array's bytes in memory order, without a copy (a byte view of a C-contiguous array)."""
    return memoryview(np.ascontiguousarray(array)).cast("B")


def write_output(path, chunks, folder=WORKING):
    """Write the byte strings `chunks` to `path` (in `folder`, a folders.Folder) as nanoBragg.c's fopen(path, "wb") would, never leaving a truncated or
    temporary file: `Outputs` for one file.

    Raises NBError("ERROR: unable to write PATH: REASON") where the C's fopen fails or the
    write cannot be completed; the file at `path` is then as it was."""
    with Outputs(folder) as outputs:
        outputs.add(path, chunks)
        outputs.commit()


class Outputs:
    """The files one run writes, prepared one by one and committed together (see the module
    docstring).  Use as a context manager: leaving the block without `commit` discards what
    was prepared.

    Parameters
    ----------
    folder : nbnumba.folders.Folder, optional
        Where relative names go, and which process opens them (default: the working folder,
        this process).
    """

    def __init__(self, folder=WORKING):
        self.folder = folder
        self.pending = []
        self.streamed = []          # (kind, path) of the pipes and devices written already

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()
        return False

    def add(self, path, chunks, kind=None):
        """Prepare `path` to receive the byte strings `chunks` at the commit; `kind` names the
        file in what `commit` returns (default: the path).

        Raises NBError("ERROR: unable to write PATH: REASON") where the C's fopen would fail
        or the bytes cannot be stored; nothing is touched then."""
        path = os.fspath(path)
        interrupt.checkpoint()
        try:
            pending = _prepare(path, list(chunks), self.folder)
        except OSError as err:
            raise NBError(f"ERROR: unable to write {path}: {err.strerror}") from None
        pending.kind = kind if kind is not None else path
        if isinstance(pending, _Stream):    # written now, as the C opens, writes and closes each file in turn
            try:                            # (a pipe's reader may wait for its end before it opens the next)
                pending.finish()
            except OSError as err:
                raise NBError(f"ERROR: unable to write {path}: {err.strerror}") from None
            finally:
                pending.close()
            self.streamed.append((pending.kind, path))
        else:
            self.pending.append(pending)

    def commit(self):
        """Put every prepared file in place, signals deferred; returns {kind: path} of what was
        written (the pipes and devices, written as they were added, included).  A file that
        cannot be put in place (it became a folder meanwhile, an I/O error) raises NBError:
        the files not yet in place are then discarded, those before it stay written."""
        pending, self.pending = self.pending, []
        finished = 0
        try:
            with interrupt.deferred():
                for p in pending:
                    p.finish()
                    finished += 1
        except OSError as err:
            for p in pending[finished:]:
                with contextlib.suppress(OSError):
                    p.abort()
            raise NBError(f"ERROR: unable to write {pending[finished].path}: {err.strerror}") from None
        finally:
            for p in pending:
                p.close()
        return dict(self.streamed + [(p.kind, p.path) for p in pending])

    def discard(self):
        """Forget what was prepared: temporary files removed, reserved space given back."""
        pending, self.pending = self.pending, []
        with interrupt.deferred():
            for p in pending:
                with contextlib.suppress(OSError):
                    p.abort()
                p.close()


def _prepare(path, data, folder):
    """The pending write of data to path (see the module docstring for the ways)."""
    try:
        fd = folder.open_fd(path, _OPEN_FLAGS)
    except FileNotFoundError:   # no file (or a dangling link): fopen would create it,
        if not path:            # unless there is no name at all
            raise
        if path.endswith("/"):  # or the name of a folder
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)) from None
        return _Rename.new(path, data, folder)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _Stream(path, fd, data)
        if _keeps_identity(fd, st):
            pending = _Rename.existing(path, data, folder, st)
            if pending is not None:
                os.close(fd)
                return pending
        return _InPlace(path, fd, st, data)
    except BaseException:
        os.close(fd)
        raise


def _keeps_identity(fd, st):
    """Whether a new inode could stand for the file open on fd: one link, no xattrs."""
    if st.st_nlink != 1:
        return False
    try:
        return not os.listxattr(fd)
    except (OSError, AttributeError):   # no xattr support: nothing to lose
        return True


def _resolve(path, folder):
    """(the folder, the name) of the file `path` names in `folder` once symbolic links in its
    last component are followed, as fopen follows them (the folders before it are followed by
    the kernel when they are opened).  The caller closes the folder returned."""
    parent_name, name = os.path.split(path)
    parent = folder.subfolder(parent_name or ".")
    try:
        for _ in range(MAX_LINKS):
            try:
                target = parent.readlink(name)
            except OSError as err:
                if err.errno in (errno.ENOENT, errno.EINVAL):      # no such file, or not a link
                    return parent, name
                raise
            parent_name, name = os.path.split(target)
            if parent_name:
                inner = parent.subfolder(parent_name)
                parent.close()
                parent = inner
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
    except BaseException:
        parent.close()
        raise


class _Rename:
    """A file written complete under a temporary name beside its target, renamed over it at
    the commit."""

    def __init__(self, path, parent, name, tmp, data, existing):
        self.path, self.parent, self.name, self.tmp = path, parent, name, tmp
        self.data, self.existing = data, existing

    @classmethod
    def new(cls, path, data, folder):
        """For a file that does not exist yet (mode 0666 less the umask); OSError as fopen."""
        return cls._write(path, data, folder, None)

    @classmethod
    def existing(cls, path, data, folder, st):
        """For the existing file st describes, its owner and mode given to the new one; None,
        leaving it untouched, where this way is closed and writing in place may still work
        (IN_PLACE_INSTEAD: a folder that may not be written, an owner that cannot be given, no
        room for a second copy) or the path resolves to another file."""
        try:
            return cls._write(path, data, folder, st)
        except OSError as err:
            if err.errno not in IN_PLACE_INSTEAD:
                raise
            return None

    @classmethod
    def _write(cls, path, data, folder, st):
        parent, name = _resolve(path, folder)
        tmp = f = None
        try:
            with interrupt.deferred():      # the name and the file are known as soon as it exists
                fd, tmp = _temporary(parent, name)
                f = os.fdopen(fd, "wb")
            with f:
                if st is not None and not _take_identity(f.fileno(), parent, name, st):
                    return None             # the path no longer names the file, or it is mounted there
                os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~parent.umask())
                for chunk in data:
                    f.write(chunk)
            pending = cls(path, parent, name, tmp, data, st is not None)
            parent = tmp = None             # the pending write owns them now
            return pending
        finally:
            if f is not None and not f.closed:      # a signal as the file was made
                f.close()
            if tmp is not None:
                with interrupt.deferred(), contextlib.suppress(OSError):
                    parent.unlink(tmp)
            if parent is not None:
                parent.close()

    def finish(self):
        try:
            self.parent.replace(self.tmp, self.name)
        except OSError as err:      # a file mounted there (a bind mount): written in place instead
            if not self.existing or err.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            fd = self.parent.open_fd(self.name, _OPEN_FLAGS)
            try:
                _InPlace(self.path, fd, os.fstat(fd), self.data).finish()
            finally:
                os.close(fd)
            self.parent.unlink(self.tmp)
        self.tmp = None

    def abort(self):
        if self.tmp is not None:
            self.parent.unlink(self.tmp)
            self.tmp = None

    def close(self):
        if self.parent is not None:
            self.parent.close()
            self.parent = None


def _temporary(parent, name):
    """A new file ".NAME.XXXXXXXX.tmp" in the folder parent, mode 0600: (fd, its name)."""
    while True:
        tmp = ".%s.%s.tmp" % (name, secrets.token_hex(4))
        try:
            return parent.open_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:
            continue


def _take_identity(fd, parent, name, st):
    """Give the temporary file on fd the owner of the file st describes, if name is it and
    not a mount point (a bind-mounted file: a rename cannot replace it)."""
    if not os.path.samestat(parent.stat(name), st) or os.fstat(fd).st_dev != st.st_dev:
        return False
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        os.fchown(fd, st.st_uid, st.st_gid)
    return True


def _write_all(data, write):
    """Write the byte strings data with write(view, offset) -> bytes written, to the end."""
    offset = 0
    for chunk in data:
        view = memoryview(chunk).cast("B")
        while view:
            n = write(view, offset)
            offset += n
            view = view[n:]


class _InPlace:
    """An existing regular file that keeps its inode: its space reserved now (on failure it
    is given back its size), the bytes written and the file cut to length at the commit."""

    def __init__(self, path, fd, st, data):
        self.path, self.fd, self.size0, self.data = path, fd, st.st_size, data
        self.size = sum(len(memoryview(chunk).cast("B")) for chunk in data)
        if self.size > 0:
            try:
                with interrupt.deferred():
                    try:
                        os.posix_fallocate(fd, 0, self.size)
                    except OSError as err:
                        if err.errno not in NO_RESERVATION:
                            raise
            except BaseException:       # no room, or a signal: the file as it was
                self.abort()
                raise

    def finish(self):
        _write_all(self.data, lambda view, offset: os.pwrite(self.fd, view, offset))
        os.ftruncate(self.fd, self.size)
        self.size0 = self.size

    def abort(self):
        if os.fstat(self.fd).st_size != self.size0:
            os.ftruncate(self.fd, self.size0)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _Stream:
    """A pipe, terminal or device, written in place at the commit, as the C's fwrite does."""

    def __init__(self, path, fd, data):
        self.path, self.fd, self.data = path, fd, data

    def finish(self):
        try:
            _write_all(self.data, lambda view, offset: os.write(self.fd, view))
        except BrokenPipeError:     # the C dies of SIGPIPE here
            raise interrupt.Interrupted(signal.SIGPIPE) from None

    def abort(self):
        pass

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
