"""The worker processes `nbnumba batch` starts on this machine: a Dask cluster that no other
account can use.

A plain `LocalCluster` listens on 127.0.0.1 TCP without authentication (anyone logged in to the
machine can connect a `distributed.Client` and run code as the batch's user) and starts an
HTTP server in the scheduler (port 8787, even with `dashboard_address=None`) and in each worker
(a random port): Dask serves its metrics and health routes there whether or not the dashboard
is on.  This cluster instead:

- speaks TLS on every listener (the scheduler's, each nanny's and each worker's), with
  credentials made for it (`distributed.Security.temporary()`: a key and certificate that
  exist only in the memory of this process and of the workers it spawns, handed to them
  through the spawn pipe) and required of every peer, so a connection without them fails its
  handshake;
- listens on 127.0.0.1 only;
- starts no HTTP server at all (`_NoHTTP`: the scheduler and workers skip
  `start_http_server`; nothing else of Dask's needs it once the dashboard is off);
- starts its workers after the scheduler, without waiting for them: the first jobs start as
  soon as the first worker is up;
- logs nothing below CRITICAL: a job's failure comes back with its result, and the
  heartbeats of workers shutting down with the cluster are not worth a traceback.

Imported only where jobs go to worker processes: it imports Dask.
"""
import logging

from distributed import Client, Nanny, Scheduler, Security, SpecCluster, Worker
from distributed.http.routing import RoutingApplication
from distributed.system import MEMORY_LIMIT

HOST = "127.0.0.1"


class _NoHTTP:
    """A Dask server without its HTTP server (the dashboard, /metrics, /health)."""

    def start_http_server(self, routes, dashboard_address, default_port=0, ssl_options=None):
        self.http_application = RoutingApplication([])      # what the server's shutdown looks at


class QuietScheduler(_NoHTTP, Scheduler):
    """The scheduler, without its HTTP server."""


class QuietWorker(_NoHTTP, Worker):
    """A worker, without its HTTP server (run in the processes the nannies spawn)."""


def start(workers, env, preload):
    """A Client of a new cluster on this machine whose `workers` worker processes (one thread
    each, with environment `env` and Dask preload modules `preload`) start in the background.

    Parameters
    ----------
    workers : int
        Worker processes.
    env : dict
        Environment variables of the worker processes.
    preload : list of str
        Modules each worker imports as it starts (Dask's `preload`).

    Returns
    -------
    distributed.Client
        Its `cluster` is the cluster; close the client, then the cluster.
    """
    security = Security.temporary()
    common = {"host": HOST, "protocol": "tls://", "security": security}
    scheduler = {"cls": QuietScheduler, "options": dict(common, dashboard=False, dashboard_address=None)}
    worker = {"cls": Nanny, "options": dict(common, nthreads=1, worker_class=QuietWorker, dashboard=False,
                                            dashboard_address=None, memory_limit=MEMORY_LIMIT // workers,
                                            silence_logs=logging.CRITICAL, env=env, preload=preload)}
    cluster = SpecCluster(scheduler=scheduler, workers={}, worker=worker, security=security,
                          silence_logs=logging.CRITICAL)
    try:
        client = Client(cluster, security=security)      # before the workers: a Client waits for those asked for
        cluster.scale(workers)
        return client
    except BaseException:
        cluster.close()
        raise
