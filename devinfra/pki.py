"""A local CA and every principal's bus credentials, made with `cryptography` at first start.

For `make run` and the tests only: a deployment brings its own CA and hands
each party its files. The folder is git-ignored and never committed. Running
again renews what is missing, expiring within `RENEW_BEFORE`, or signed by
another CA; a password, once made, is kept (the broker stores its SCRAM hash).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.crypto.keys import pkcs8_pem, write_private
from broker.kafka.credentials import BROKER_PRINCIPAL, CredentialFolder

CA_LIFETIME = dt.timedelta(days=730)
LEAF_LIFETIME = dt.timedelta(days=365)
RENEW_BEFORE = dt.timedelta(days=30)
_ORGANISATION = "Silta local development"
SERVER_NAMES = ("localhost", "kafka", "kafka-1", "kafka-2", "kafka-3")
"""The brokers' host names besides 127.0.0.1: `localhost`, and those of docker-compose.yml."""


def _name(common_name: str) -> x509.Name:
    # Kafka reads the subject in RFC 2253 order, most specific first: "CN=hva-08,O=…".
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LocalAuthority:
    """The local CA of one credentials folder."""

    def __init__(self, folder: CredentialFolder, name: str = "Silta local bus CA") -> None:
        self.folder = folder
        self._name = name
        self._key, self._cert = self._load_or_make()

    @property
    def certificate(self) -> x509.Certificate:
        """The CA certificate."""
        return self._cert

    def _load_or_make(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        try:
            key = serialization.load_pem_private_key(self.folder.ca_key_file.read_bytes(), None)
            cert = x509.load_pem_x509_certificate(self.folder.ca_file.read_bytes())
            if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc - _now() > RENEW_BEFORE:
                return key, cert
        except (OSError, ValueError):
            pass
        return self._make_ca()

    def _make_ca(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(self._name)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .sign(key, hashes.SHA256())
        )
        write_private(self.folder.ca_key_file, pkcs8_pem(key))
        self.folder.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def issue(self, common_name: str, *, server: bool = False) -> tuple[bytes, bytes]:
        """A new key and certificate (PEM) for `common_name`; a server's names 127.0.0.1, localhost and kafka."""
        key = ec.generate_private_key(ec.SECP256R1())
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + LEAF_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        if server:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), *(x509.DNSName(n) for n in SERVER_NAMES)]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return pkcs8_pem(key), cert.public_bytes(serialization.Encoding.PEM)

    def ensure_principal(self, name: str, *, server: bool = False) -> None:
        """Give `name` a password (once) and a current certificate from this CA."""
        password = self.folder.password_file(name)
        if not password.exists():
            write_private(password, secrets.token_urlsafe(32).encode())
        if not self._current(self.folder.cert_file(name), server=server):
            key, cert = self.issue(name, server=server)
            write_private(self.folder.key_file(name), key)
            self.folder.cert_file(name).write_bytes(cert)

    def _current(self, cert_file: Path, *, server: bool = False) -> bool:
        try:
            cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        except (OSError, ValueError):
            return False
        return (
            cert.issuer == self._cert.subject
            and cert.not_valid_after_utc - _now() > RENEW_BEFORE
            and (_signed_by(cert, self._cert))
            and (not server or _names_every_server_host(cert))
        )

    def broker_keystore(self) -> Path:
        """The broker's PEM keystore for Kafka: its key, then its certificate and the CA's."""
        self.ensure_principal(BROKER_PRINCIPAL, server=True)
        store = self.folder.principal_dir(BROKER_PRINCIPAL) / "keystore.pem"
        parts = [self.folder.key_file(BROKER_PRINCIPAL), self.folder.cert_file(BROKER_PRINCIPAL), self.folder.ca_file]
        write_private(store, b"".join(part.read_bytes() for part in parts))
        return store


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _names_every_server_host(cert: x509.Certificate) -> bool:
    """A broker certificate made before a host name was added to `SERVER_NAMES` is made again."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(SERVER_NAMES) <= set(names.get_values_for_type(x509.DNSName))


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def ensure_bus_credentials(folder: CredentialFolder, principals: list[str]) -> LocalAuthority:
    """The local CA, the broker's credentials and every principal's, made or renewed as needed."""
    authority = LocalAuthority(folder)
    authority.ensure_principal(BROKER_PRINCIPAL, server=True)
    for name in principals:
        authority.ensure_principal(name)
    return authority
