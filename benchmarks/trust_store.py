"""Trust stores laid out like Amazon Linux 2023's, to measure the Lambdas'
start as they would find their certificates on Lambda's provided.al2023.

The SDK's HTTPS client (rustls-native-certs, through openssl-probe) reads, when
SSL_CERT_FILE and SSL_CERT_DIR are unset: the first file that exists of a list
(/etc/ssl/certs/ca-certificates.crt first, then
/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem, then
/etc/pki/tls/certs/ca-bundle.crt, ...), then every file of each directory that
exists of /etc/ssl/certs, /etc/pki/tls/certs and /etc/security/certificates,
skipping a file it has read already (same device and inode, symbolic links
followed). So what costs is how many distinct files those directories hold.

AL2023's ca-certificates (the RHEL-family package: update-ca-trust writes the
bundles under /etc/pki/ca-trust/extracted/) lays out:

    /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem      the bundle (a file)
    /etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt the same CAs as
                                                           BEGIN TRUSTED CERTIFICATE
    /etc/pki/tls/certs/ca-bundle.crt       -> .../pem/tls-ca-bundle.pem
    /etc/pki/tls/certs/ca-certificates.crt -> .../pem/tls-ca-bundle.pem
    /etc/pki/tls/certs/ca-bundle.trust.crt -> .../openssl/ca-bundle.trust.crt
    /etc/pki/tls/cert.pem                  -> .../pem/tls-ca-bundle.pem
    /etc/ssl/certs                         -> /etc/pki/tls/certs

Since late 2024 the upstream package also puts one hash-named link per CA
(NNNNNNNN.0) into /etc/pki/tls/certs, each to that CA's own file under
.../pem/directory-hash/. Releases differ, so both are built: "al2023" without
them, "al2023-hashed" with them.

Built from this machine's bundle (the same Mozilla CAs); the trust bundle is
made by `openssl x509 -trustout` from it, one entry per CA of the bundle.
Used from a private mount namespace (bench.py re-runs itself under
`unshare --mount`): a layout is a copy of /etc with these in place of
/etc/ssl, bind-mounted over /etc while one Lambda is measured.
"""
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

LAYOUTS = ("al2023", "al2023-hashed")
EXTRACTED = "pki/ca-trust/extracted"


def split_bundle(bundle):
    """The PEM certificates of a bundle, in order."""
    text = Path(bundle).read_text()
    return re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", text, re.S)


def subject_hash(pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-subject_hash"], input=pem.encode(),
                         capture_output=True, check=True)
    return out.stdout.decode().strip()


def trusted(pem):
    out = subprocess.run(["openssl", "x509", "-trustout", "-addtrust", "serverAuth"], input=pem.encode(),
                         capture_output=True, check=True)
    return out.stdout.decode()


def build(root, bundle, layout):
    """A copy of /etc under root with an AL2023-like trust store instead of
    /etc/ssl; returns the path of that etc. Kept for the next run while the
    bundle and this machine's /etc stay the same."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout: one of {LAYOUTS}, got {layout!r}")
    digest = hashlib.sha256(Path(bundle).read_bytes())
    for entry in sorted(os.listdir("/etc")):
        digest.update(entry.encode())
    etc = Path(root) / f"{layout}-{digest.hexdigest()[:12]}" / "etc"
    if etc.exists():
        return etc
    staging = etc.with_name("etc.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree("/etc", staging, symlinks=True)
    shutil.rmtree(staging / "ssl")
    (staging / "ssl").mkdir()
    certs = split_bundle(bundle)
    pem_dir = staging / EXTRACTED / "pem"
    openssl_dir = staging / EXTRACTED / "openssl"
    tls_certs = staging / "pki/tls/certs"
    for d in (pem_dir, openssl_dir, tls_certs):
        d.mkdir(parents=True)
    (pem_dir / "tls-ca-bundle.pem").write_text("".join(certs))
    (openssl_dir / "ca-bundle.trust.crt").write_text("".join(trusted(c) for c in certs))
    for name, target in (("ca-bundle.crt", "pem/tls-ca-bundle.pem"),
                         ("ca-certificates.crt", "pem/tls-ca-bundle.pem"),
                         ("ca-bundle.trust.crt", "openssl/ca-bundle.trust.crt")):
        os.symlink(f"/etc/{EXTRACTED}/{target}", tls_certs / name)
    os.symlink(f"/etc/{EXTRACTED}/pem/tls-ca-bundle.pem", staging / "pki/tls/cert.pem")
    os.symlink("/etc/pki/tls/certs", staging / "ssl/certs")
    if layout == "al2023-hashed":
        hashed = pem_dir / "directory-hash"
        hashed.mkdir()
        seen = {}
        for i, pem in enumerate(certs):
            own = hashed / f"ca-{i:03d}.pem"
            own.write_text(pem)
            h = subject_hash(pem)
            n = seen.get(h, 0)
            seen[h] = n + 1
            os.symlink(f"/etc/{EXTRACTED}/pem/directory-hash/{own.name}", tls_certs / f"{h}.{n}")
    staging.rename(etc)
    return etc


def mount(etc):
    """Puts a layout in place of /etc (in this private mount namespace)."""
    subprocess.run(["mount", "--bind", str(etc), "/etc"], check=True)


def unmount():
    subprocess.run(["umount", "/etc"], check=True)


def in_private_namespace():
    return os.environ.get("BENCH_MOUNT_NAMESPACE") == "1"


def reexec_in_private_namespace(argv):
    """Runs argv again in a private mount namespace, which takes root (it
    mounts over /etc); None when that is not possible."""
    if in_private_namespace() or not shutil.which("unshare"):
        return None
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    env = dict(os.environ, BENCH_MOUNT_NAMESPACE="1")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", *argv], env=env).returncode
