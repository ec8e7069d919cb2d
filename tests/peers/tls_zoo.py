#!/usr/bin/env python3
"""A TLS "zoo": one nginx serving good and bad certificates on one port per variant.

    tls_zoo.py --upstream PORT [--upstream-host 127.0.0.1] [--dir DIR] [--keep] [--quiet]

Generates, in a temporary directory (removed at exit unless --keep), a root CA, an
intermediate CA, server certificates for every variant and client credentials (with the
``cryptography`` package, so validity dates can be set in the past or future without waiting;
the two self-signed server certificates are made by ``openssl req -x509`` as people usually make
them). Then runs ONE foreground nginx (config in the same directory, like tls_front.py) with one
``server`` block per variant, each on its own 127.0.0.1 port obtained without a race: Python
binds port 0 for every variant, keeps the sockets open and inheritable and passes them all to
nginx with ``NGINX="fd1;fd2;...;"``. Every block proxies HTTP and WebSocket upgrades to the
upstream exactly like tls_front.py.

Variants (READY "ports" keys):
    chain               leaf (localhost, 127.0.0.1) signed by the intermediate; leaf+intermediate sent
    expired             leaf signed by the root, valid now-30d .. now-1d
    notyet              leaf signed by the root, valid now+1d .. now+30d
    wrongname           leaf signed by the root for DNS:wrong.example only
    selfsigned          `openssl req -x509` certificate (CA:TRUE) for localhost, sent alone
    selfsigned_expired  the same, re-dated to now-30d .. now-1d
    clientauth          as chain, plus a client certificate required (signed by ca.pem)
    clientauth12        as clientauth, TLS 1.2 only

Prints one stdout line once a TLS handshake with every port completes:
    READY {"dir": D, "ca": ".../ca.pem", "intermediate": ".../intermediate.pem",
           "ports": {"chain": N, ...}, "files": {"chain.der": PATH, "client.pem": PATH, ...}}
and runs until SIGTERM/SIGINT or its stdin (when a pipe or socket) reaches EOF; exits 1 if
nginx dies.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # importing tls_front and peer_util leaves no __pycache__ behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peer_util  # noqa: E402
import tls_front  # noqa: E402
from tls_front import (inheritable_listener, nginx_binary, nginx_conf, nginx_errlog,  # noqa: E402
                       nginx_server, spawn_nginx, stop_nginx, tls_handshake_ok, wait_for_stop)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover
    x509 = None

QUIET = False

VARIANTS = ["chain", "expired", "notyet", "wrongname", "selfsigned", "selfsigned_expired",
            "clientauth", "clientauth12"]

DAY = datetime.timedelta(days=1)


def log(msg: str) -> None:
    if not QUIET:
        sys.stderr.write(f"tls_zoo: {msg}\n")
        sys.stderr.flush()


# ------------------------------------------------------------------------------------------
# certificates
# ------------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _p256():
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key, issuer_cert, issuer_key, not_before, not_after, *, ca: bool,
          server: bool = False, client: bool = False, sans=None, path_len=None):
    """A certificate for `key`'s public key; self-signed when issuer_cert is None."""
    pub = key.public_key()
    issuer_name = issuer_cert.subject if issuer_cert is not None else _name(subject)
    signer = issuer_key if issuer_key is not None else key
    b = (x509.CertificateBuilder()
         .subject_name(_name(subject))
         .issuer_name(issuer_name)
         .public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before)
         .not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
    if issuer_cert is not None:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                            critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                          key_encipherment=False, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=True, crl_sign=True,
                                          encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=isinstance(pub, rsa.RSAPublicKey),
                                          data_encipherment=False, key_agreement=False,
                                          key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
        ekus = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
               ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algo = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return b.sign(signer, algo)


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pkcs8(key, enc=serialization.Encoding.PEM) -> bytes:
    return key.private_bytes(enc, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _openssl_selfsigned(d: str, name: str) -> None:
    """A self-signed server certificate the way people usually make one (CA:TRUE)."""
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-sha256", "-days", "30", "-keyout", f"{name}.key", "-out", f"{name}.pem",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"tls_zoo: openssl req -x509 failed:\n{r.stderr.decode(errors='replace')}")


def make_zoo_certs(d: str) -> dict[str, str]:
    """Writes every certificate and key into d; returns {file name: absolute path}."""
    if x509 is None:
        raise SystemExit("tls_zoo: the Python 'cryptography' package is missing "
                         "(python3 -m pip install cryptography, or scripts/setup.sh)")
    files: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        if name.endswith(".key") or name.endswith(".key.der"):
            os.chmod(path, 0o600)
        files[name] = path

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca_from, ca_to = now - 60 * DAY, now + 60 * DAY
    ok_from, ok_to = now - DAY, now + 30 * DAY
    local_sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]

    ca_key = _p256()
    ca = _cert("litecore-ws zoo root CA", ca_key, None, None, ca_from, ca_to, ca=True)
    put("ca.pem", _pem(ca))
    put("ca.key", _pkcs8(ca_key))
    im_key = _p256()
    im = _cert("litecore-ws zoo intermediate CA", im_key, ca, ca_key, ca_from, ca_to, ca=True,
               path_len=0)
    put("intermediate.pem", _pem(im))
    put("intermediate.key", _pkcs8(im_key))

    # server leaves
    def leaf(name, issuer, issuer_key, nb, na, cn="localhost", sans=None, chain=()):
        k = _p256()
        c = _cert(cn, k, issuer, issuer_key, nb, na, ca=False, server=True,
                  sans=local_sans if sans is None else sans)
        put(f"{name}.pem", _pem(c))
        put(f"{name}.key", _pkcs8(k))
        put(f"{name}.der", c.public_bytes(serialization.Encoding.DER))
        if chain:
            put(f"{name}_fullchain.pem", _pem(c) + b"".join(_pem(x) for x in chain))
        return c, k

    chain_cert, chain_key = leaf("chain", im, im_key, ok_from, ok_to, chain=[im])
    put("chain_pubkey.der", chain_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    put("chain_pubkey.pem", chain_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    for v in ("clientauth", "clientauth12"):  # these serve the chain leaf
        put(f"{v}.der", chain_cert.public_bytes(serialization.Encoding.DER))
    leaf("expired", ca, ca_key, now - 30 * DAY, now - DAY)
    leaf("notyet", ca, ca_key, now + DAY, now + 30 * DAY)
    leaf("wrongname", ca, ca_key, ok_from, ok_to, cn="wrong.example",
         sans=[x509.DNSName("wrong.example")])

    # self-signed: openssl req -x509 (its default extensions make it CA:TRUE); the expired one
    # is the same kind of certificate re-signed by its own key with dates in the past.
    for name in ("selfsigned", "selfsigned_expired"):
        _openssl_selfsigned(d, name)
        files[f"{name}.pem"] = os.path.join(d, f"{name}.pem")
        files[f"{name}.key"] = os.path.join(d, f"{name}.key")
    with open(files["selfsigned_expired.pem"], "rb") as f:
        src = x509.load_pem_x509_certificate(f.read())
    with open(files["selfsigned_expired.key"], "rb") as f:
        ss_key = serialization.load_pem_private_key(f.read(), None)
    b = (x509.CertificateBuilder().subject_name(src.subject).issuer_name(src.issuer)
         .public_key(src.public_key()).serial_number(src.serial_number)
         .not_valid_before(now - 30 * DAY).not_valid_after(now - DAY))
    for ext in src.extensions:
        b = b.add_extension(ext.value, ext.critical)
    put("selfsigned_expired.pem", _pem(b.sign(ss_key, hashes.SHA256())))
    for name in ("selfsigned", "selfsigned_expired"):
        with open(files[f"{name}.pem"], "rb") as f:
            c = x509.load_pem_x509_certificate(f.read())
        bc = c.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not bc.ca:
            raise SystemExit(f"tls_zoo: openssl req -x509 made {name}.pem without CA:TRUE "
                             "(unusual openssl.cnf?)")
        put(f"{name}.der", c.public_bytes(serialization.Encoding.DER))

    # client credentials
    def client(name, key, issuer, issuer_key, chain=(), cn="test-client"):
        c = _cert(cn, key, issuer, issuer_key, ok_from, ok_to, ca=False, client=True)
        put(f"{name}.pem", _pem(c) + b"".join(_pem(x) for x in chain))
        return c

    ck = _p256()
    cc = client("client", ck, ca, ca_key)
    put("client.key", _pkcs8(ck))
    put("client.der", cc.public_bytes(serialization.Encoding.DER))
    put("client.key.der", _pkcs8(ck, serialization.Encoding.DER))
    k = _p256()
    client("client_chain", k, im, im_key, chain=[im])
    put("client_chain.key", _pkcs8(k))
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client("client_rsa", k, ca, ca_key)
    put("client_rsa.key", k.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    k = ed25519.Ed25519PrivateKey.generate()
    client("client_ed25519", k, ca, ca_key)
    put("client_ed25519.key", _pkcs8(k))
    k = _p256()
    client("rogue_client", k, None, None)
    put("rogue_client.key", _pkcs8(k))
    return files


# ------------------------------------------------------------------------------------------
# nginx
# ------------------------------------------------------------------------------------------


def server_blocks(ports: dict[str, int], files: dict[str, str], up_host: str,
                  up_port: int, host: str = "127.0.0.1") -> list[str]:
    client_auth = [f"ssl_client_certificate {files['ca.pem']};", "ssl_verify_client on;",
                   "ssl_verify_depth 3;",
                   # nginx alone only asks for a certificate (SSL_VERIFY_PEER) and answers a
                   # request without one with HTTP 400; this makes OpenSSL refuse the handshake
                   "ssl_conf_command VerifyMode Require;"]
    blocks = []
    for v in VARIANTS:
        cert, key = f"{v}.pem", f"{v}.key"
        if v in ("chain", "clientauth", "clientauth12"):
            cert, key = "chain_fullchain.pem", "chain.key"
        extra = [f"# variant {v}", "ssl_session_tickets off;"]
        if v.startswith("clientauth"):
            extra += client_auth
        blocks.append(nginx_server(host, ports[v], up_host, up_port, files[cert], files[key],
                                   protocols="TLSv1.2" if v == "clientauth12"
                                   else "TLSv1.2 TLSv1.3", extra=extra))
    return blocks


def handshake_ok(host: str, port: int, cert: str | None = None, key: str | None = None,
                 timeout: float = 1.0) -> bool:
    """TCP connect + TLS handshake without verifying the server (optionally with a client
    certificate)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return tls_handshake_ok(host, port, ctx, timeout)


class Zoo:
    """One nginx with a server block per variant in front of (up_host, up_port)."""

    def __init__(self, up_port: int, up_host: str = "127.0.0.1", workdir: str | None = None,
                 host: str = "127.0.0.1"):
        self.up_port, self.up_host, self.host = up_port, up_host, host
        self.own_dir = workdir is None
        self.dir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="lcws-zoo-"))
        self.proc: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}
        self.files: dict[str, str] = {}

    def start(self, ready_timeout: float = 20.0) -> dict:
        try:
            nginx_binary()
        except SystemExit as e:
            raise SystemExit(f"tls_zoo: {e}")
        self.files = make_zoo_certs(self.dir)
        socks = [inheritable_listener(self.host) for _ in VARIANTS]
        try:
            self.ports = {v: s.getsockname()[1] for v, s in zip(VARIANTS, socks)}
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_conf(self.dir, server_blocks(self.ports, self.files, self.up_host,
                                                           self.up_port, self.host),
                                   prog="tls_zoo.py"))
            self.proc = spawn_nginx(self.dir, conf, socks)
            ok = self._wait_ready(ready_timeout)
        finally:
            for s in socks:
                s.close()  # nginx holds its own copies
        if ok:
            return self.info()
        err = ""
        try:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
        except Exception:
            pass
        self.stop()
        raise SystemExit(f"tls_zoo: nginx did not become ready:\n{err}\n{self.errlog()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pending = dict(self.ports)
        delay = 0.01
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            for v, port in list(pending.items()):
                cert = key = None
                if v.startswith("clientauth"):
                    cert, key = self.files["client.pem"], self.files["client.key"]
                if handshake_ok(self.host, port, cert, key):
                    del pending[v]
            if not pending:
                return True
            time.sleep(delay)  # poll back-off between handshake rounds
            delay = min(delay * 2, 0.2)
        log(f"not ready: {sorted(pending)}")
        return False

    def errlog(self) -> str:
        return nginx_errlog(self.dir)

    def info(self) -> dict:
        return {"dir": self.dir, "ca": self.files["ca.pem"],
                "intermediate": self.files["intermediate.pem"], "ports": dict(self.ports),
                "files": dict(sorted(self.files.items()))}

    def stop(self, keep_dir: bool = False) -> None:
        p = self.proc
        stop_nginx(p)
        if p is not None:
            # nginx runs in its own session (process group = master pid): if the master died
            # by itself, its worker would otherwise linger with the listening sockets
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc = None
        if self.own_dir and not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> int:
    global QUIET
    p = argparse.ArgumentParser(description="nginx serving every TLS trust case, one port each")
    p.add_argument("--upstream", type=int, required=True, metavar="PORT", help="plain upstream port")
    p.add_argument("--upstream-host", default="127.0.0.1")
    p.add_argument("--dir", help="work directory (default: a new temp dir, removed at exit)")
    p.add_argument("--keep", action="store_true", help="keep the work directory at exit")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    QUIET = tls_front.QUIET = a.quiet
    peer_util.die_with_parent()  # SIGTERM when the parent dies (nginx gets the same)
    if a.dir:
        os.makedirs(a.dir, exist_ok=True)
    zoo = Zoo(a.upstream, a.upstream_host, a.dir)
    stop = peer_util.stop_on_signals()
    try:
        info = zoo.start()
        peer_util.print_ready(info)
        log(" ".join(f"{v}={n}" for v, n in info["ports"].items())
            + f" -> {a.upstream_host}:{a.upstream} (dir {zoo.dir})")
        return wait_for_stop(stop, lambda: zoo.proc, zoo.errlog, log)
    finally:
        zoo.stop(keep_dir=a.keep)


if __name__ == "__main__":
    sys.exit(main())
