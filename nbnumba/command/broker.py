"""A served run's file operations, carried out by the client that asked for the run (standard
library only: the launcher is the client).

A served job renders in the server's worker process, but every path it touches -- the files it
reads, the images it writes, the folders it resolves, the temporary names it renames -- is
opened, looked up, renamed or removed by the `nbnumba` process the user started (the client),
on the worker's request over a socket pair that only the two of them hold.  So the permission
checks of the served run are exactly those of the same command in-process: file modes and
ACLs, the client's working folder (held by the kernel as the client's, however it is renamed
meanwhile), its root, mounts and namespaces, a Landlock or LSM confinement, and what
/dev/fd/N, /dev/stdin or /proc/self mean.  The worker reads and writes only the bytes of
descriptors the client opened and passed to it (SCM_RIGHTS), with the client's file-size and
memory limits adopted for the job (command/server/renderer.py).

- `Broker` (the client's side) answers requests: open (a descriptor comes back), a sub-folder
  (a handle: the client keeps the folder's descriptor), stat, access, readlink, replace,
  unlink, close.  Handle 0 is the client's working folder.
- `RemoteFolder` (the worker's side) has the methods of folders.Folder, each a request.

Messages are command/wire.py's: REQUEST (kind "F") with {"op", "dir", ...}, ANSWER (kind
"f") with the result or {"errno", "strerror"}, and the descriptor beside an open's answer.
"""
import os

from nbnumba.command import wire
from nbnumba.folders import WORKING, Folder

REQUEST, ANSWER = b"F", b"f"


class Broker:
    """The client's side: carries out the worker's requests on this process's behalf."""

    def __init__(self, sock):
        self.sock = sock
        self.folders = {0: WORKING}     # handle -> folders.Folder (0: the working folder)
        self.next_handle = 1

    def close(self):
        for folder in self.folders.values():
            folder.close()
        self.folders = {0: WORKING}

    def answer(self):
        """Read one request and answer it; False when the worker's end has closed."""
        try:
            message = wire.receive(self.sock, max_fds=0)
        except OSError:
            message = None
        if message is None:
            return False
        kind, body, _ = message
        fds = []
        try:
            if kind != REQUEST:
                raise OSError(22, "not a file request")
            reply, fds = self._carry_out(body)
        except OSError as err:
            reply = {"errno": err.errno or 5, "strerror": err.strerror or str(err)}
        except (KeyError, TypeError, ValueError) as err:
            reply = {"errno": 22, "strerror": "malformed request: %s" % err}
        try:
            wire.send(self.sock, ANSWER, reply, fds)
        except OSError:
            return False
        finally:
            for fd in fds:
                os.close(fd)
        return True

    def _carry_out(self, body):
        """(the answer, the descriptors to send) of a request: the folders.Folder operation it
        names, carried out here."""
        op = body["op"]
        folder = self.folders[int(body.get("dir", 0))]
        path = body.get("path")
        if op == "open":
            return {}, [folder.open_fd(path, int(body["flags"]), int(body["mode"]))]
        if op == "subfolder":
            handle = self.next_handle
            self.folders[handle] = folder.subfolder(path)
            self.next_handle += 1
            return {"handle": handle}, []
        if op == "close":
            gone = self.folders.pop(int(body["handle"]), None)
            if gone is not None and gone is not WORKING:
                gone.close()
            return {}, []
        if op == "stat":
            return {"stat": list(folder.stat(path, bool(body.get("follow", True)))[:10])}, []
        if op == "access":
            return {"access": folder.access(path, int(body["mode"]))}, []
        if op == "readlink":
            return {"target": folder.readlink(path)}, []
        if op == "replace":
            folder.replace(body["src"], body["dst"])
            return {}, []
        if op == "unlink":
            folder.unlink(path)
            return {}, []
        raise OSError(22, "no such file operation: %s" % op)


class RemoteFolder(Folder):
    """The worker's side: a folders.Folder whose path operations the client carries out.

    Parameters
    ----------
    sock : socket.socket
        The worker's end of the socket pair.
    handle : int
        The client's handle of the folder (0: its working folder).
    path : str
        How to name the folder in messages.
    umask : int
        The client's umask (new files get 0666 less it).
    """

    def __init__(self, sock, handle, path, umask):
        super().__init__(None, path)
        self.sock, self.handle, self._umask = sock, handle, umask

    def _ask(self, op, **body):
        wire.send(self.sock, REQUEST, dict(body, op=op, dir=self.handle))
        message = wire.receive(self.sock, max_fds=1)
        if message is None or message[0] != ANSWER:
            raise OSError(32, "the nbnumba command that asked for this run has gone")
        _, reply, fds = message
        if "errno" in reply:
            for fd in fds:
                os.close(fd)
            raise OSError(int(reply["errno"]), str(reply.get("strerror", "")))
        return reply, fds

    def close(self):
        if self.handle:
            try:
                self._ask("close", handle=self.handle)
            except OSError:
                pass
            self.handle = None

    def open_fd(self, name, flags, mode=0o666):
        reply, fds = self._ask("open", path=name, flags=flags, mode=mode)
        if len(fds) != 1:
            raise OSError(5, "no descriptor came back for %s" % name)
        return fds[0]

    def subfolder(self, name):
        reply, _ = self._ask("subfolder", path=name)
        return RemoteFolder(self.sock, int(reply["handle"]), os.path.join(self.path, name), self._umask)

    def stat(self, name, follow_symlinks=True):
        return os.stat_result(self._ask("stat", path=name, follow=follow_symlinks)[0]["stat"])

    def access(self, name, mode):
        return bool(self._ask("access", path=name, mode=mode)[0]["access"])

    def readlink(self, name):
        return self._ask("readlink", path=name)[0]["target"]

    def replace(self, src, dst):
        self._ask("replace", src=src, dst=dst)

    def unlink(self, name):
        self._ask("unlink", path=name)

    def umask(self):
        return self._umask
