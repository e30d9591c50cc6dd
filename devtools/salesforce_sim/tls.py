"""Self-signed TLS certificate for 127.0.0.1/localhost and a CA bundle that trusts it.

simple-salesforce always builds `https://` URLs, so the simulator must speak TLS; callers trust it
through the standard REQUESTS_CA_BUNDLE pointing at `ca_bundle_path`.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class TlsMaterial:
    directory: Path
    cert_path: Path
    key_path: Path
    ca_bundle_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _system_bundle() -> bytes:
    if SYSTEM_CA_BUNDLE.exists():
        return SYSTEM_CA_BUNDLE.read_bytes()
    import certifi

    return Path(certifi.where()).read_bytes()


def _certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Salesforce simulator (127.0.0.1)")])
    now = datetime.now(UTC)
    public = key.public_key()
    # CA:TRUE with keyCertSign so strict verifiers accept it as its own trust anchor.
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def create_tls_material() -> TlsMaterial:
    """Key + self-signed cert + (system CAs + this cert) bundle in a fresh temp dir."""
    directory = Path(tempfile.mkdtemp(prefix="salesforce-sim-"))
    key = ec.generate_private_key(ec.SECP256R1())
    cert_pem = _certificate(key).public_bytes(serialization.Encoding.PEM)
    key_path, cert_path, bundle_path = directory / "key.pem", directory / "cert.pem", directory / "ca-bundle.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert_pem)
    system = _system_bundle()
    bundle_path.write_bytes(system + (b"" if system.endswith(b"\n") else b"\n") + cert_pem)
    return TlsMaterial(directory, cert_path, key_path, bundle_path)
