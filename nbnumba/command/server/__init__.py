"""`nbnumba serve`: a resident renderer for this user, which the `nbnumba` command hands its
runs to (command/launcher.py), so that a script calling nbnumba image after image pays
Python's, NumPy's and Numba's start-up, CUDA's context and the kernels' loading once.

- main.py: the command line (start, --status, --stop) and the worker count;
- daemon.py: the lock, the foreground or detached server, its log;
- loop.py: the server: one event loop over the socket, the clients and the render processes;
- renderer.py: a render process, which runs job after job within each client's limits, its
  files opened by the client (command/broker.py).

docs/security.md says who can reach what.
"""
