"""A course's own certificate authority for its Dask cluster: only nodes it certified can join.

``dlbasics cluster-certs --course C`` writes ``C/cluster/``: ``ca.pem`` (the authority's
certificate, which every party trusts), ``node.pem`` (key and certificate for the scheduler and
the workers) and ``grader.pem`` (key and certificate of the grading process). Dask's TLS then
authenticates both ends of every connection against ``ca.pem`` (mutual TLS: distributed requires
the peer's certificate on both sides), so a worker without ``node.pem`` cannot join the
scheduler, and neither the seed nor a notebook crosses the network in clear. The authority's
own key is not kept: no further certificate can be signed with it (run the command again, with
``--renew``, to replace all three and restart the cluster).

Written with ``cryptography``, the library Dask's own ``Security.temporary`` uses.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

FOLDER = "cluster"
CA, NODE, GRADER = "ca.pem", "node.pem", "grader.pem"
# A term and some margin: the certificates stop working after this, as a forgotten cluster should.
VALID_DAYS = 400


class CertificatesMissing(FileNotFoundError):
    """The cluster has no certificates yet; the message says how to make them."""


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pem(key, certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()) if key is not None else b""
    return private + certificate.public_bytes(serialization.Encoding.PEM)


def _certificate(subject: str, key, issuer_name, issuer_key, *, authority: bool):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
               .add_extension(x509.BasicConstraints(ca=authority, path_length=0 if authority else None), critical=True))
    if not authority:
        # Dask connects by IP address or host name and does not check names (check_hostname is off):
        # the certificate's signature by the course's authority is what admits a peer.
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                               ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def make(root: Path, renew: bool = False) -> Path:
    """Create ``root/cluster/`` with the three files (never overwriting unless ``renew``); return the folder."""
    folder = root / FOLDER
    if (folder / CA).exists() and not renew:
        raise FileExistsError(f"{folder} holds certificates already: pass --renew to replace them (then restart "
                              "the scheduler and every worker with the new files)")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    ca_key = _key()
    ca = _certificate("dlbasics course authority", ca_key, None, ca_key, authority=True)
    for filename, subject in ((NODE, "dlbasics cluster node"), (GRADER, "dlbasics grader")):
        key = _key()
        _write(folder / filename, _pem(key, _certificate(subject, key, ca.subject, ca_key, authority=False)))
    _write(folder / CA, _pem(None, ca))
    return folder


def security(root: Path, role: str = "grader"):
    """Dask's ``Security`` for ``role`` (``grader`` or ``node``) from ``root/cluster/``, encryption required."""
    from distributed.security import Security

    folder = root / FOLDER
    files = {name: folder / name for name in (CA, NODE, GRADER)}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise CertificatesMissing(f"no cluster certificates in {folder} ({', '.join(missing)} missing): run "
                                  f"`dlbasics cluster-certs` with the same --course or --out first; it prints how "
                                  "to start the scheduler and the workers with them")
    own = str(files[GRADER if role == "grader" else NODE])
    return Security(tls_ca_file=str(files[CA]), tls_client_cert=own, tls_client_key=own,
                    tls_scheduler_cert=str(files[NODE]), tls_scheduler_key=str(files[NODE]),
                    tls_worker_cert=str(files[NODE]), tls_worker_key=str(files[NODE]), require_encryption=True)


class InsecureCluster(Exception):
    """A cluster address without TLS that the user did not explicitly allow; the message says what to do."""


def cluster_security(address: str, insecure_allowed: bool, root: Path):
    """How to reach the cluster at ADDRESS: the certificates of ``root/cluster/`` for ``tls://``; no security
    (None) for another scheme only when the user allowed it (``--insecure-cluster``): the seed and the
    notebooks would cross the network in clear, and any machine reaching the scheduler could join it."""
    if address.startswith("tls://"):
        return security(root)
    if not insecure_allowed:
        raise InsecureCluster(f"{address}: a cluster is reached over TLS (tls://HOST:8786) with the course's "
                              "certificates, so that only your nodes can join and see the seed and the notebooks: "
                              "run `dlbasics cluster-certs` (same --course or --out) and start the scheduler and "
                              "workers as it says; or pass --insecure-cluster on a network you trust")
    return None


def start_commands(folder: Path) -> str:
    """How to start a scheduler and workers that only certified peers can reach."""
    tls = f"--tls-ca-file {folder / CA} --tls-cert {folder / NODE} --tls-key {folder / NODE}"
    return (f"copy {folder} to every node (keep it private: {NODE} admits a machine to the cluster), then\n"
            f"  on the scheduler:  dask scheduler --protocol tls {tls}\n"
            f"  on each node:      dask worker tls://SCHEDULER:8786 --nthreads N {tls}\n"
            f"and grade with --cluster tls://SCHEDULER:8786")
