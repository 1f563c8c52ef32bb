"""The cost of the seal alone: encrypt-then-sign and verify-then-decrypt per message, on one core.

`python -m bench.crypto [--size BYTES] [-n COUNT]` prints microseconds per
message and messages per second for each half, so the figure can stand next
to the service's whole CPU per message from `bench.e2e`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from broker.crypto.sealing import SigningKey, decrypt, seal, verify
from broker.domain import headers as hdr

HEADERS = {
    hdr.MESSAGE_ID: "0b9a4c1e-8f7d-4e6a-9b2c-3d4e5f6a7b8c",
    hdr.MESSAGE_TYPE: "application-transfer",
    hdr.SCHEMA: "urn:fi:silta:application-transfer:1#1.0",
    hdr.SENDER: "kela",
    hdr.RECIPIENT: "hva-08",
}
TOPIC = "silta.to.hva-08.v1"


def _per_message(work: Callable[[], object], count: int) -> float:
    began = time.perf_counter()
    for _ in range(count):
        work()
    return (time.perf_counter() - began) / count


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="python -m bench.crypto", description=__doc__)
    parser.add_argument("--size", type=int, default=5000, help="plaintext bytes (default 5000)")
    parser.add_argument("-n", type=int, default=2000, help="messages per measurement")
    args = parser.parse_args()
    private = OKPKey.generate_key("X25519", parameters={"kid": "hva-08-enc-1"}, private=True)
    public = OKPKey.import_key(private.as_dict(private=False))
    signer = SigningKey("silta-signing-1", Ed25519PrivateKey.generate())
    document = b"<x>" + b"a" * max(0, args.size - 7) + b"</x>"
    headers, value = seal(TOPIC, HEADERS, document, public, signer)
    sealing = _per_message(lambda: seal(TOPIC, HEADERS, document, public, signer), args.n)
    verifying = _per_message(lambda: verify(TOPIC, headers, value, signer.key.public_key()), args.n)
    opening = _per_message(lambda: decrypt(headers, value, {"hva-08-enc-1": private}), args.n)
    print(f"seal benchmark: {args.size}-byte documents, {args.n} each, one core")
    print(f"  encrypt + sign (the sender)    {sealing * 1e6:8.0f} µs/message  {1 / sealing:8.0f} messages/s")
    print(f"  verify (the recipient, first)  {verifying * 1e6:8.0f} µs/message  {1 / verifying:8.0f} messages/s")
    print(f"  decrypt (the recipient, then)  {opening * 1e6:8.0f} µs/message  {1 / opening:8.0f} messages/s")
    print(f"  sealed size                    {len(value):8d} bytes ({len(value) / len(document):.2f} × the document)")


if __name__ == "__main__":
    main()
