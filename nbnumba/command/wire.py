"""What the `nbnumba` launcher, the server and its workers share (standard library only: the
launcher imports this before deciding whether to load NumPy and Numba at all).

- Where the server listens: `socket_path()`, a Unix socket in `runtime_dir()`
  ($XDG_RUNTIME_DIR/nbnumba, or /tmp/nbnumba-UID where XDG_RUNTIME_DIR names no folder), or
  the path NBNUMBA_SERVER (Settings.server) names.  The socket's folder must be the user's own with mode 0700
  (`check_folder`): nobody else can reach the socket, or replace it.  Both ends also check
  each other's user id (`peer_uid`, SO_PEERCRED).
- Whether client and server run the same code: `source_digest()`, over nbnumba's sources,
  the Python version and the installed NumPy, Numba and llvmlite.
- What a job takes from the client's environment: `job_environment()` (NBNUMBA_* and the
  terminal size, the job's settings.Settings) and `process_environment()` (NUMBA_* and
  CUDA_*, Numba's and CUDA's own, read when they are imported: fixed when a render process
  starts, so a client whose values differ runs in-process).
- What confines a process beyond the files it opens (`process_context`) and the limits a
  job keeps to (`process_limits`, `limits_problem`).
- Messages: SOCK_SEQPACKET, so each `send` arrives whole; a message is one kind byte and a
  JSON body, with file descriptors beside it where the kind carries them.  The client sends
  JOB (with its fds 1 and 2, and its end of the socket pair its run's file requests come on:
  command/broker.py), CANCEL, STATUS or STOP; the server answers ACCEPTED or DECLINED, then
  RUNNING when a render process starts the job and EXITED at its end.  Between the server and
  a render process: READY (warm), JOB (with the client's descriptors), CANCEL, EXITED.
"""
import array
import hashlib
import json
import os
import resource
import socket
import stat
import struct
import sys
from importlib.util import find_spec

from nbnumba.folders import current_umask
from nbnumba.settings import OFF

SOCKET_NAME = "server.sock"
HANDSHAKE_SECONDS = 10           # a connection's first message, a server's first answer
MAX_MESSAGE = 1 << 18            # a SOCK_SEQPACKET message's size limit (the socket buffer's)

JOB, CANCEL, STATUS, STOP = b"J", b"C", b"S", b"Q"                 # client -> server
ACCEPTED, DECLINED, RUNNING, EXITED, REPORT = b"A", b"D", b"R", b"X", b"T"   # server -> client
READY = b"W"                                                       # worker -> server

# the launcher's own settings, never a job's
LAUNCHER_SETTINGS = ("NBNUMBA_SERVER",)
TERMINAL = ("COLUMNS", "LINES")  # -h fits the terminal (shutil.get_terminal_size reads these first)


def package_root():
    """The folder of the nbnumba package this process runs."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runtime_dir(env=os.environ):
    """The user's server folder: $XDG_RUNTIME_DIR/nbnumba, or /tmp/nbnumba-UID."""
    base = env.get("XDG_RUNTIME_DIR", "")
    if base and os.path.isabs(base) and os.path.isdir(base):
        return os.path.join(base, "nbnumba")
    return "/tmp/nbnumba-%d" % os.geteuid()


def socket_path(named=""):
    """The server's socket: `named` (Settings.server, NBNUMBA_SERVER) when it names one, else
    in runtime_dir()."""
    if named and named != OFF:
        return os.path.abspath(named)
    return os.path.join(runtime_dir(), SOCKET_NAME)


def check_folder(path):
    """None when `path` is a folder (not a link) of this user with mode 0700, else why not."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return "%s: %s" % (path, e.strerror)
    if not stat.S_ISDIR(st.st_mode):
        return "%s is not a folder" % path
    if st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) != 0o700:
        return ("%s has owner %d and mode %04o: it must be a folder of user %d with mode 0700"
                % (path, st.st_uid, stat.S_IMODE(st.st_mode), os.geteuid()))
    return None


def make_folder(path):
    """Create the socket's folder with mode 0700 if it is missing; None, or why it cannot be used."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        return "cannot create %s: %s" % (path, e.strerror)
    return check_folder(path)


def source_digest(root=None):
    """sha1 over the nbnumba sources under `root` (default: this package), the Python version,
    and where NumPy, Numba, llvmlite and numba-cuda are installed with their __init__.py's
    size and modification time (found without importing them)."""
    root = root or package_root()
    h = hashlib.sha1(sys.version.encode())
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                h.update(os.path.relpath(path, root).encode() + b"\0")
                try:
                    with open(path, "rb") as f:
                        h.update(f.read())
                except OSError:
                    h.update(b"\1unreadable")
    for name in ("numpy", "numba", "llvmlite", "numba_cuda"):
        try:
            origin = find_spec(name).origin
            st = os.stat(origin)
            h.update(("%s %s %d %d\n" % (name, origin, st.st_size, st.st_mtime_ns)).encode())
        except (AttributeError, ImportError, OSError, TypeError, ValueError):
            h.update(("%s absent\n" % name).encode())
    return h.hexdigest()


def job_environment(env=os.environ):
    """The variables a job takes from its client (its settings.Settings): NBNUMBA_* (but the
    launcher's) and the terminal size."""
    return {k: v for k, v in env.items()
            if (k.startswith("NBNUMBA_") and k not in LAUNCHER_SETTINGS) or k in TERMINAL}


def process_environment(env=os.environ):
    """The variables fixed when a render process starts (Numba's and CUDA's own): NUMBA_*, CUDA_*."""
    return {k: v for k, v in env.items() if k.startswith(("NUMBA_", "CUDA_"))}


NAMESPACES = ("mnt", "user", "pid", "net", "ipc", "uts", "cgroup", "time")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").strip("\0\n")
    except OSError:
        return None


def process_context():
    """What, beyond the files it opens (the client opens them: command/broker.py), confines a
    process and that a served job cannot take over: its namespaces, root folder, groups,
    capabilities, no-new-privileges and seccomp modes, cgroup (the CPU and memory limits of a
    container or a batch scheduler's job) and security label.  A job runs in the server's
    context, so a client whose context differs (in a container, under a scheduler's cgroup,
    behind setpriv, sg or unshare) runs in-process."""
    context = {"gid": os.getegid(), "groups": sorted(os.getgroups())}
    for name in NAMESPACES:
        try:
            context[name] = os.readlink("/proc/self/ns/" + name)
        except OSError:
            pass
    root = os.stat("/")
    context["root"] = [root.st_dev, root.st_ino]
    for name, path in (("cgroup", "/proc/self/cgroup"), ("label", "/proc/self/attr/current")):
        context[name + "_path" if name == "cgroup" else name] = _read(path)
    status = _read("/proc/self/status") or ""
    for line in status.splitlines():
        if line.startswith(("CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:")):
            name, value = line.split(":", 1)
            context[name] = value.strip()
    return context


# resource limits a job takes from its client for its run (soft limits, within the worker's
# hard ones); every other limit must be the server's, or the job runs in-process
ADOPTED_LIMITS = ("RLIMIT_FSIZE", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CORE")


def rlimit_names():
    """The resource limits this system knows, by name."""
    return sorted(name for name in dir(resource) if name.startswith("RLIMIT_"))


def process_limits():
    """The limits a served job must keep to: every resource limit ([soft, hard], -1 for
    unlimited), the nice value, the scheduling policy, the OOM score adjustment, the CPUs it
    may run on and the umask."""
    limits = {name: list(resource.getrlimit(getattr(resource, name))) for name in rlimit_names()}
    return {"rlimits": limits, "nice": os.getpriority(os.PRIO_PROCESS, 0),
            "affinity": sorted(os.sched_getaffinity(0)), "umask": current_umask(),
            "scheduler": os.sched_getscheduler(0), "oom_score_adj": _read("/proc/self/oom_score_adj")}


def limits_problem(client, worker):
    """Why a worker with limits `worker` (process_limits) cannot run a job within the
    client's, or None: an adopted limit above the worker's hard one, another limit or nice
    value that differs, CPUs the worker may not use."""
    theirs, mine = client.get("rlimits", {}), worker["rlimits"]
    if set(theirs) != set(mine):
        return "the client's resource limits are not this system's"
    for name in sorted(mine):
        soft, hard = theirs[name]
        if name == "RLIMIT_CPU" and soft != resource.RLIM_INFINITY:
            return "RLIMIT_CPU %s: a CPU-time limit counts a process's whole life, not one job" % soft
        if name in ADOPTED_LIMITS:
            if _above(soft, mine[name][1]):
                return "%s %s is above the server's hard limit" % (name, soft)
        elif [soft, hard] != list(mine[name]):
            return "%s differs from the server's (%s, not %s)" % (name, [soft, hard], list(mine[name]))
    for what in ("nice", "scheduler", "oom_score_adj"):
        if client.get(what) != worker.get(what):
            return "%s %s differs from the server's %s" % (what, client.get(what), worker.get(what))
    if not set(client.get("affinity", ())) <= set(worker["affinity"]) or not client.get("affinity"):
        return "the client's CPUs are not among the server's"
    return None


def _above(value, limit):
    """Whether a resource value is above a limit (-1, RLIM_INFINITY, is unlimited)."""
    if limit == resource.RLIM_INFINITY:
        return False
    return value == resource.RLIM_INFINITY or value > limit


def differences(mine, theirs):
    """The sorted keys whose values differ between two dicts."""
    return sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))


def peer_uid(sock):
    """The user id of the process at the other end of a connected Unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def connect(path, timeout):
    """A connection to the server at path, or None where none runs or it is another user's."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        if peer_uid(sock) == os.geteuid():
            return sock
    except OSError:
        pass
    sock.close()
    return None


def send(sock, kind, body=None, fds=()):
    """Send one message: kind, a JSON body, and the file descriptors fds (SCM_RIGHTS)."""
    data = kind + json.dumps(body if body is not None else {}).encode()
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([data], ancillary)


def receive(sock, max_fds=0):
    """(kind, body, fds) of the next message, or None at the end of the connection (a message
    that is not ours counts as an end).  The caller owns (closes) the fds."""
    space = socket.CMSG_SPACE(max_fds * array.array("i").itemsize) if max_fds else 0
    data, ancillary, flags, _ = sock.recvmsg(MAX_MESSAGE, space)
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    try:
        if not data or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            raise ValueError("end of the connection, or a message cut short")
        return data[:1], json.loads(data[1:]), list(fds)
    except ValueError:
        for fd in fds:
            os.close(fd)
        return None
