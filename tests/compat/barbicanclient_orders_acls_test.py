#!/usr/bin/env python3
"""python-barbicanclient orders and ACLs against a running Arca, with tokens and no Keystone.

Environment:
  ARCA_URL           base URL of the server, e.g. http://127.0.0.1:9311 (no /v1)
  ARCA_TOKEN         an admin token of the project that owns what is created
  ARCA_READER_TOKEN  a token of a user of another project (role observer)
  ARCA_READER_USER   that user's id
  ARCA_COMPAT_DEBUG=1  log every request and response (keystoneauth debug log)

Places key and asymmetric orders (orders.create_key / create_asymmetric), waits until they are ACTIVE,
reads the generated AES key and RSA key pair, signs and verifies with the private and public keys using
Python's `cryptography` (the private key encrypted under the order's passphrase), then shares a secret
through an ACL (acls.create/get/submit/remove) and checks the other project's user can read it only
while the ACL lists them. Exits non-zero with a message naming the failed check. Run by
crates/arca-cli/tests/compat.rs (via scripts/test).
"""

import logging
import os
import sys
import time
import traceback
import uuid

from barbicanclient import exceptions as barbican_exc
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from compat_common import CHECKS, check, expect_http_error, make_client

def wait_active(client, order_ref, what):
    """Polls the order until it leaves PENDING; it must end ACTIVE."""
    deadline = time.monotonic() + 60
    while True:
        order = client.orders.get(order_ref)
        if order.status != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(order.status == "ACTIVE", f"{what}: order becomes ACTIVE",
          f"status {order.status!r}, error {order.error_status_code!r} {order.error_reason!r}")
    return order


def as_bytes(payload):
    return payload.encode() if isinstance(payload, str) else payload


def main():
    url = os.environ.get("ARCA_URL", "").rstrip("/")
    token = os.environ.get("ARCA_TOKEN", "")
    reader_token = os.environ.get("ARCA_READER_TOKEN", "")
    reader_user = os.environ.get("ARCA_READER_USER", "")
    if not (url and token and reader_token and reader_user):
        print("FAIL: set ARCA_URL, ARCA_TOKEN, ARCA_READER_TOKEN and ARCA_READER_USER",
              file=sys.stderr)
        return 2
    if os.environ.get("ARCA_COMPAT_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    client = make_client(url, token, timeout=60)
    reader = make_client(url, reader_token, timeout=60)
    tag = uuid.uuid4().hex[:12]

    # --- a key order ------------------------------------------------------------
    key_order = client.orders.create_key(name=f"aes-{tag}", algorithm="aes", bit_length=256,
                                         mode="cbc", payload_content_type="application/octet-stream")
    key_order_ref = key_order.submit()
    check(key_order_ref.startswith(url + "/v1/orders/"), "create_key: order_ref", key_order_ref)
    order = wait_active(client, key_order_ref, "key order")
    check(order.secret_ref and order.secret_ref.startswith(url + "/v1/secrets/"),
          "key order: secret_ref", repr(order.secret_ref))
    check(order.algorithm == "aes" and order.bit_length == 256 and order.mode == "cbc",
          "key order: meta round-trips", f"{order.algorithm!r} {order.bit_length!r} {order.mode!r}")
    secret = client.secrets.get(order.secret_ref)
    check(secret.name == f"aes-{tag}" and secret.secret_type == "symmetric",
          "key order: the secret is named and symmetric", f"{secret.name!r} {secret.secret_type!r}")
    key = secret.payload
    check(isinstance(key, bytes) and len(key) == 32, "key order: a 256-bit key", repr(key)[:40])
    listed = [o.order_ref for o in client.orders.list(limit=100)]
    check(key_order_ref in listed, "orders.list shows the order", repr(listed))

    # --- asymmetric orders -----------------------------------------------------------
    # python-barbicanclient sends its passphrase as meta `pass_phrase`, which Barbican's order task does not
    # read (it takes `passphrase`): the key comes back unencrypted and no passphrase secret is made, here too.
    client_pass = f"client-pass-{tag}"
    plain_ref = client.orders.create_asymmetric(name=f"rsa-plain-{tag}", algorithm="rsa",
                                                bit_length=2048, pass_phrase=client_pass).submit()
    order = wait_active(client, plain_ref, "create_asymmetric order")
    check(client_pass not in repr(client.client.get(plain_ref)),
          "the order never echoes a passphrase")
    raw = client.client.get(order.container_ref)
    check(sorted(r["name"] for r in raw["secret_refs"]) == ["private_key", "public_key"],
          "create_asymmetric: private and public key in the container", repr(raw["secret_refs"]))
    plain = client.containers.get(order.container_ref)
    check(type(plain).__name__ == "RSAContainer", "containers.get gives an RSAContainer",
          type(plain).__name__)
    plain_key = serialization.load_pem_private_key(as_bytes(plain.private_key.payload), password=None)
    check(isinstance(plain_key, rsa.RSAPrivateKey) and plain_key.key_size == 2048,
          "cryptography loads the plain PKCS#8 private key")
    plain_public = serialization.load_pem_public_key(as_bytes(plain.public_key.payload))
    message = f"signed by arca {tag}".encode()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    plain_public.verify(plain_key.sign(message, pss, hashes.SHA256()), message, pss, hashes.SHA256())
    check(True, "sign with the generated private key, verify with its public key (RSA-PSS)")

    # Barbican's own meta name, `passphrase`: an encrypted PKCS#8 key and a passphrase secret.
    passphrase = f"pass-{tag}"
    created = client.client.post("orders", json={"type": "asymmetric", "meta": {
        "name": f"rsa-{tag}", "algorithm": "rsa", "bit_length": 2048, "passphrase": passphrase}})
    order = wait_active(client, created["order_ref"], "asymmetric order with passphrase")
    check(order.container_ref and order.container_ref.startswith(url + "/v1/containers/"),
          "asymmetric order: container_ref", repr(order.container_ref))
    raw = client.client.get(order.container_ref)
    names = {r["name"]: r["secret_ref"] for r in raw["secret_refs"]}
    check(sorted(names) == ["private_key", "private_key_passphrase", "public_key"],
          "asymmetric order: the container names its three secrets", repr(sorted(names)))
    private_pem = as_bytes(client.secrets.get(names["private_key"]).payload)
    public_pem = as_bytes(client.secrets.get(names["public_key"]).payload)
    stored_pass = as_bytes(client.secrets.get(names["private_key_passphrase"]).payload)
    check(stored_pass == passphrase.encode(), "asymmetric order: passphrase secret", repr(stored_pass))
    check(private_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
          "asymmetric order: encrypted PKCS#8 private key", repr(private_pem[:40]))
    private_key = serialization.load_pem_private_key(private_pem, password=passphrase.encode())
    public_key = serialization.load_pem_public_key(public_pem)
    check(isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size == 2048,
          "cryptography loads a 2048-bit RSA private key with the passphrase")
    signature = private_key.sign(message, pss, hashes.SHA256())
    public_key.verify(signature, message, pss, hashes.SHA256())
    check(True, "sign with the private key, verify with the public key (RSA-PSS SHA-256)")
    pkcs1 = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public_key.verify(pkcs1, message, padding.PKCS1v15(), hashes.SHA256())
    check(True, "sign and verify with PKCS#1 v1.5 too")
    try:
        serialization.load_pem_private_key(private_pem, password=b"wrong")
        raise AssertionError("the private key opened with a wrong passphrase")
    except ValueError:
        check(True, "a wrong passphrase does not open the private key")

    # An order Arca cannot serve ends in ERROR with Barbican's code.
    bad_ref = client.orders.create_key(algorithm="aes", bit_length=136).submit()
    bad = client.orders.get(bad_ref)
    check(bad.status == "ERROR" and str(bad.error_status_code) == "400",
          "unsupported key size: order ERROR 400", f"{bad.status!r} {bad.error_status_code!r}")
    client.orders.delete(bad_ref)
    expect_http_error(lambda: client.orders.get(bad_ref).status, 404, "deleted order is 404")

    # --- ACLs -------------------------------------------------------------------
    shared_ref = client.secrets.create(name=f"shared-{tag}", payload=f"shared {tag}").store()
    expect_http_error(lambda: reader.secrets.get(shared_ref).payload, 403,
                      "another project's user cannot read before the ACL")
    acl = client.acls.get(shared_ref)
    check(acl.read.project_access is True and not acl.read.users,
          "acls.get: the default ACL", f"{acl.read.project_access!r} {acl.read.users!r}")
    new_acl = client.acls.create(entity_ref=shared_ref, users=[reader_user], project_access=False)
    acl_ref = new_acl.submit()
    check(acl_ref == shared_ref + "/acl", "acls.create(...).submit(): acl_ref", repr(acl_ref))
    acl = client.acls.get(shared_ref)
    check(acl.read.users == [reader_user] and acl.read.project_access is False,
          "acls.get: users and project-access round-trip",
          f"{acl.read.users!r} {acl.read.project_access!r}")
    check(acl.read.created is not None, "acls.get: created is set")
    got = reader.secrets.get(shared_ref).payload
    check(got == f"shared {tag}", "the listed user of another project reads the payload", repr(got))
    shared_list = reader.secrets.list(limit=100)
    check(all(s.secret_ref != shared_ref for s in shared_list),
          "a plain list shows only the reader's own project")
    # Change it through the entity: add nobody, re-open the project, submit.
    acl.read.project_access = True
    acl.submit()
    check(client.acls.get(shared_ref).read.project_access is True, "acl.submit() replaces it")
    # Remove the read operation: the ACL goes back to the default and the reader is shut out.
    client.acls.get(shared_ref).read.remove()
    acl = client.acls.get(shared_ref)
    check(acl.read.project_access is True and not acl.read.users, "read.remove(): back to default")
    expect_http_error(lambda: reader.secrets.get(shared_ref).payload, 403,
                      "after the ACL is removed the reader is refused again")
    client.acls.create(entity_ref=shared_ref, users=[reader_user]).submit()
    client.acls.get(shared_ref).remove()
    check(not client.acls.get(shared_ref).read.users, "acl.remove() deletes the whole ACL")
    # Container ACLs through the same client calls, when the server serves them.
    try:
        client.acls.create(entity_ref=order.container_ref, users=[reader_user]).submit()
        got = client.acls.get(order.container_ref)
        check(got.read.users == [reader_user], "container ACL round-trips", repr(got.read.users))
    except barbican_exc.HTTPClientError as e:
        raise AssertionError(f"container ACL refused: {e.status_code} {e}")

    print(f"barbicanclient orders/ACLs compat: {len(CHECKS)} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report any failure as a test failure
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
