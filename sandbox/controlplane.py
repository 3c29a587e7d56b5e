"""A real Kubernetes control plane on loopback: etcd and kube-apiserver built by scripts/build-controlplane.sh.

`start(state_dir)` makes its own CA, serving certificate and ServiceAccount signing key, starts etcd and
kube-apiserver (RBAC authorization, a static token for an admin and one for each component that
sandbox/controlplane_cluster.py starts beside it) on free ports, waits for /readyz and writes an admin kubeconfig;
`stop(state_dir)` ends both. The API server writes an audit log (audit.k8s.io/v1 Events, level Metadata) of
opsbot's ServiceAccount's requests only, which `audit_events(state_dir)` reads: what the tools called and what
RBAC answered (tests/controlplane/test_rbac_audit.py derives deploy/'s rules from it). `binaries()` and
`addon_binaries()` say where the built binaries are, or raise ControlPlaneMissing with the reason (Go not
installed, not built yet) so callers can skip in words.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from sandbox import k8s, procs
from sandbox.k8s_rbac import SUBJECT

ETCD, APISERVER = "etcd", "kube-apiserver"
BUILD = Path(__file__).resolve().parent.parent / "scripts" / "build-controlplane.sh"
START_TIMEOUT = 60.0
AUDIT_LOG = "audit.log"
# who did what, as the authorizer answered it: opsbot's ServiceAccount's requests at level Metadata (user, verb,
# objectRef, responseStatus; no bodies), one event each once answered; nobody else's requests
AUDIT_POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                "omitStages": ["RequestReceived", "ResponseStarted"],
                "rules": [{"level": "Metadata", "users": [SUBJECT]}, {"level": "None"}]}
# the users the components beside the API server authenticate as (static tokens), and their groups: the scheduler
# and controller-manager as the API server's bootstrap RBAC names them; kwok (it writes any pod's and node's
# status) and kube-state-metrics (it lists every kind) as cluster administrators
COMPONENTS = {"kube-scheduler": ("system:kube-scheduler", ""),
              "kube-controller-manager": ("system:kube-controller-manager", ""),
              "kwok": ("opsbot:kwok", "system:masters"),
              "kube-state-metrics": ("opsbot:kube-state-metrics", "system:masters")}


class ControlPlaneMissing(Exception):
    """The control plane's binaries are not there; the message says why and what to run."""


@dataclass(frozen=True)
class ControlPlane:
    """A running control plane: its URL, the CA that signed its certificate, and the admin's kubeconfig."""

    state_dir: Path
    url: str
    ca_file: Path
    admin_token: str
    admin_kubeconfig: Path
    tokens: dict[str, str]  # each of COMPONENTS' token
    etcd_url: str = ""  # the API server's etcd (the sandbox's copy sets creation times there)


def _built() -> tuple[Path, Path]:
    """The directories of the pinned versions' binaries: the control plane's and the addons' (kwok, KSM)."""
    try:
        done = subprocess.run(["bash", str(BUILD), "--check"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ControlPlaneMissing(f"{BUILD.name} could not run: {e}") from None
    if done.returncode != 0:
        raise ControlPlaneMissing(done.stderr.strip() or f"{BUILD.name} --check exited {done.returncode}")
    core, addons = done.stdout.strip().splitlines()[-2:]
    return Path(core), Path(addons)


def binaries() -> Path:
    """The directory holding etcd, kube-apiserver, kube-scheduler and kube-controller-manager (never builds)."""
    return _built()[0]


def addon_binaries() -> Path:
    """The directory holding kwok and kube-state-metrics at the pinned versions (never builds them)."""
    return _built()[1]


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _certificates(certs: Path) -> None:
    """A CA, the API server's serving certificate for 127.0.0.1/localhost, and the ServiceAccount key pair."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opsbot-controlplane-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    serving = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
               .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc"),
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
               .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .sign(ca_key, hashes.SHA256()))
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "apiserver.crt": serving.public_bytes(serialization.Encoding.PEM),
        "apiserver.key": _pem_key(key),
        "sa.key": _pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for name, data in files.items():
        (certs / name).write_bytes(data)
        (certs / name).chmod(0o600)


def _start_etcd(bin_dir: Path, state_dir: Path) -> int:
    client, peer = procs.free_port(), procs.free_port()
    url = f"http://127.0.0.1:{client}"
    shutil.rmtree(state_dir / "etcd-data", ignore_errors=True)  # a fresh cluster: the last one's CA is gone too
    pid = procs.start(ETCD, [
        str(bin_dir / "etcd"), "--name", "opsbot", "--data-dir", str(state_dir / "etcd-data"),
        "--listen-client-urls", url, "--advertise-client-urls", url,
        "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-cluster", f"opsbot=http://127.0.0.1:{peer}",
        "--unsafe-no-fsync", "--log-level", "warn",
    ], state_dir)

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    procs.wait_until(ETCD, ready, pid, state_dir, timeout=START_TIMEOUT)
    return client


TEST_FLAGS = ["--disable-admission-plugins", "ServiceAccount,TaintNodesByCondition"]
SANDBOX_FLAGS = ["--disable-admission-plugins", "TaintNodesByCondition", "--enable-aggregator-routing"]


def start(state_dir: Path, controllers: bool = False) -> ControlPlane:
    """Start etcd and kube-apiserver in `state_dir`; on failure both are stopped and the error holds the log tail.
    `controllers`: a controller-manager will run beside it (a sandbox on the real control plane), so the
    ServiceAccount admission plugin is on (a pod naming a ServiceAccount that does not exist is refused) and a
    webhook is called at its Service's ready endpoints (none: "no endpoints available for service")."""
    bin_dir = binaries()
    certs = state_dir / "certs"
    certs.mkdir(parents=True, exist_ok=True)
    _certificates(certs)
    admin_token = secrets.token_urlsafe(24)
    tokens = state_dir / "tokens.csv"
    component_tokens = {name: secrets.token_urlsafe(24) for name in COMPONENTS}
    tokens.write_text(f'{admin_token},opsbot-test-admin,opsbot-test-admin,"system:masters"\n' + "".join(
        f'{component_tokens[name]},{user},{user}{f",{group}" if group else ""}\n'
        for name, (user, group) in COMPONENTS.items()))
    tokens.chmod(0o600)
    (state_dir / "audit-policy.json").write_text(json.dumps(AUDIT_POLICY))
    try:
        etcd_port = _start_etcd(bin_dir, state_dir)
        port = procs.free_port()
        url = f"https://127.0.0.1:{port}"
        pid = procs.start(APISERVER, [
            str(bin_dir / "kube-apiserver"), "--etcd-servers", f"http://127.0.0.1:{etcd_port}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(port),
            "--tls-cert-file", str(certs / "apiserver.crt"), "--tls-private-key-file", str(certs / "apiserver.key"),
            "--token-auth-file", str(tokens), "--authorization-mode", "RBAC", "--anonymous-auth=false",
            "--service-account-key-file", str(certs / "sa.pub"),
            "--service-account-signing-key-file", str(certs / "sa.key"),
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-cluster-ip-range", "10.96.0.0/16", "--allow-privileged",
            # kwok's kubelet API (logs) on 127.0.0.1: its nodes' InternalIP, a copied node's InternalDNS
            "--kubelet-preferred-address-types", "InternalDNS,InternalIP",
            # without `controllers` objects are created as a scenario describes them: no default ServiceAccount or
            # token volume added (no controller makes the default ServiceAccounts); never a not-ready taint on a
            # new Node (no node lifecycle controller would lift it once the Node reports Ready)
            *(SANDBOX_FLAGS if controllers else TEST_FLAGS),
            # blocking: each event is written as its request is answered, none buffered; a sandbox keeps 2 x 100 MB
            "--audit-policy-file", str(state_dir / "audit-policy.json"), "--audit-log-path",
            str(state_dir / AUDIT_LOG), "--audit-log-format", "json", "--audit-log-mode", "blocking",
            "--audit-log-maxsize", "100", "--audit-log-maxbackup", "1",
        ], state_dir)

        trust = ssl.create_default_context(cafile=str(certs / "ca.crt"))

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/readyz", verify=trust, timeout=1,
                                 headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
            except httpx.HTTPError:
                return False

        procs.wait_until(APISERVER, ready, pid, state_dir, timeout=START_TIMEOUT)
    except procs.SandboxError:
        stop(state_dir)
        raise
    admin = state_dir / "admin.kubeconfig.yaml"
    k8s.write_kubeconfig(admin, url, admin_token, certificate_authority=certs / "ca.crt")
    return ControlPlane(state_dir, url, certs / "ca.crt", admin_token, admin, component_tokens,
                        f"http://127.0.0.1:{etcd_port}")


def audit_events(state_dir: Path) -> list[dict]:
    """The audit events written so far (opsbot's ServiceAccount's requests, oldest first): each has `verb`,
    `user.username`, `objectRef` (`apiGroup`, absent for the core group; `resource`, `subresource`, `namespace`,
    `name`; absent for a non-resource URL such as /version) and `responseStatus.code`."""
    log = state_dir / AUDIT_LOG
    return [json.loads(line) for line in log.read_text().splitlines() if line] if log.exists() else []


def stop(state_dir: Path) -> None:
    procs.stop(APISERVER, state_dir)
    procs.stop(ETCD, state_dir)
