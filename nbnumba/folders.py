"""The folders a run reads from and writes to: every path a run resolves goes through one.

nanoBragg.c opens its files relative to its working folder.  nbnumba's run takes that
folder as an argument instead (`Folder`): relative names resolve against the folder's open
descriptor (openat and friends), absolute names stay absolute, and nothing changes the
process's working directory.  So two runs in two threads can use two folders at once, and a
folder renamed or replaced by a link after the run started is not followed: the run keeps
the folder it was given.

Every operation on a path a run makes is a method here (open, read, stat, access, readlink,
replace, unlink, and a sub-folder); operations on an open descriptor (write, fstat, fchmod)
are the caller's.  A served run (command/server) uses a Folder whose methods are carried out
by the client process that asked for the run (command/broker.py): the same checks apply to
its files as to the command run in-process.

    here = WORKING                      # the working folder, whichever it is at each use
    data = here.read("P1.hkl")          # bytes, or OSError as open() raises it
    with Folder.open("frames") as out:  # a folder by name, opened now, closed at the end
        ...
"""
import os
import stat

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def current_umask():
    """This process's umask: from /proc/self/status (Linux 4.7 and later), which leaves it as it
    is for every thread; else read by setting it and putting it back."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Folder:
    """A folder held open by descriptor.

    Parameters
    ----------
    fd : int or None
        An open descriptor of the folder (O_DIRECTORY); None: the working folder, whichever
        it is at each use (`WORKING`).
    path : str
        How to name the folder in messages.
    owned : bool, optional
        Whether `close` closes fd (a Folder made by `open` owns its descriptor; one made
        from a descriptor passed in by the caller does not).
    """

    def __init__(self, fd, path, owned=False):
        self.fd = fd
        self.path = path
        self.owned = owned

    @classmethod
    def open(cls, path):
        """The folder at `path` (relative to the working folder), opened now.

        Raises
        ------
        OSError
            No such folder, or it cannot be opened.
        """
        path = os.fspath(path)
        return cls(os.open(path, _DIRECTORY), path, owned=True)

    def close(self):
        if self.owned and self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- what a run does with paths in the folder
    def open_fd(self, name, flags, mode=0o666):
        """os.open of `name` in this folder: a descriptor the caller closes."""
        return os.open(name, flags | os.O_CLOEXEC, mode, dir_fd=self.fd)

    def subfolder(self, name):
        """The folder `name` names in this folder, opened now (the caller closes it)."""
        return Folder(self.open_fd(name, _DIRECTORY), os.path.join(self.path, name), owned=True)

    def read(self, name):
        """The bytes of file `name` (raises OSError as open() would)."""
        with open(self.open_fd(name, os.O_RDONLY), "rb") as f:
            return f.read()

    def stat(self, name, follow_symlinks=True):
        return os.stat(name, dir_fd=self.fd, follow_symlinks=follow_symlinks)

    def access(self, name, mode):
        return os.access(name, mode, dir_fd=self.fd)

    def readlink(self, name):
        return os.readlink(name, dir_fd=self.fd)

    def replace(self, src, dst):
        """Rename src over dst, both in this folder."""
        os.replace(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def unlink(self, name):
        os.unlink(name, dir_fd=self.fd)

    def umask(self):
        """The umask new files get (the run's: this process's)."""
        return current_umask()

    # ---- derived
    def path_of(self, name):
        """`name` as a path from the working folder (as it is where absolute or the folder is
        the working one)."""
        return name if os.path.isabs(name) or self.path == "." else os.path.join(self.path, name)

    def isfile(self, name):
        """Whether `name` is a regular file (after links)."""
        try:
            return stat.S_ISREG(self.stat(name).st_mode)
        except OSError:
            return False

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.path)


WORKING = Folder(None, ".")     # the process's working folder, looked up at each use
