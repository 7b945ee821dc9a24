"""Run a command confined by Landlock: it may read everything, and write only beneath the
given folders.  For tests/test_serve_limits.py.

    python landlocked.py FOLDER... -- COMMAND ARGS...

Exit status 97 where this kernel has no Landlock.  Landlock (Linux >= 5.13) is the kernel's
unprivileged sandbox: a process restricts itself and its children, and no other process can
see that it did (nothing in /proc tells) -- which is why a served run's files are opened by
its client.  Without CAP_SYS_ADMIN the process sets no-new-privileges first, as the kernel
requires.
"""
import ctypes
import os
import sys

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
# LANDLOCK_ACCESS_FS_*: execute, write file, read file, read dir, remove dir, remove file,
# make char, make dir, make reg, make sock, make fifo, make block, make sym (ABI 1), refer (2),
# truncate (3)
READ = 1 | 4 | 8
ABI_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1}


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def main(argv):
    split = argv.index("--")
    writable, command = argv[:split], argv[split + 1:]
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(SYS_CREATE_RULESET, None, 0, 1)
    if abi < 1:
        return 97
    rights = ABI_RIGHTS[min(abi, 3)]
    attr = RulesetAttr(rights)
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    for path, allowed in [("/", READ)] + [(w, rights) for w in writable]:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = PathBeneath(allowed, fd)
        if libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_add_rule %s" % path)
        os.close(fd)
    if libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0:      # without CAP_SYS_ADMIN: no-new-privs first
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
