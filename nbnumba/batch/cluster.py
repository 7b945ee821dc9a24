"""The worker processes `nbnumba batch` starts on this machine: a Dask cluster that no other
account can use.

A plain `LocalCluster` listens on 127.0.0.1 TCP without authentication (anyone logged in to the
machine can connect a `distributed.Client` and run code as the batch's user) and starts an
HTTP server in the scheduler (port 8787, even with `dashboard_address=None`) and in each worker
(a random port): Dask serves its metrics and health routes there whether or not the dashboard
is on.  This cluster instead:

- speaks TLS on every listener (the scheduler's, each nanny's and each worker's), with
  credentials made for it (`temporary_security`: a key and certificate that exist only in the
  memory of this process and of the workers it spawns, handed to them through the spawn pipe,
  as `distributed.Security.temporary()` makes them but with an elliptic-curve key, made and
  used in a fraction of the time of its RSA key) and required of every peer, so a connection
  without them fails its handshake;
- listens on 127.0.0.1 only;
- starts no HTTP server at all (`_NoHTTP`: the scheduler and workers skip
  `start_http_server`; nothing else of Dask's needs it once the dashboard is off);
- starts its workers after the scheduler, without waiting for them: the first jobs start as
  soon as the first worker is up;
- logs nothing below CRITICAL: a job's failure comes back with its result, and the
  heartbeats of workers shutting down with the cluster are not worth a traceback.

Imported only where jobs go to worker processes: it imports Dask.
"""
import datetime
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


def temporary_security():
    """A distributed.Security of a new self-signed certificate and key (ECDSA P-256), in memory
    only, required of every peer: `Security.temporary()`'s credentials, with a key that takes
    milliseconds to make (RSA 2048: 0.1-0.2 s) and is faster in every handshake."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dask-internal")])
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("dask-internal")]), critical=False)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=7))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return Security(require_encryption=True, tls_ca_file=cert_pem, tls_client_key=key_pem, tls_client_cert=cert_pem,
                    tls_scheduler_key=key_pem, tls_scheduler_cert=cert_pem, tls_worker_key=key_pem,
                    tls_worker_cert=cert_pem)


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
    security = temporary_security()
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
