#!/usr/bin/env python3
"""python-barbicanclient containers and consumers against a running Arca (token, no Keystone).

Environment:
  ARCA_URL    base URL of the server, e.g. http://127.0.0.1:9311 (no /v1)
  ARCA_TOKEN  a token whose principal may create, read and delete secrets and containers (admin)

Creates generic, RSA and certificate containers (`containers.create`, `create_rsa`,
`create_certificate`), reads and lists them, registers and removes container consumers, registers,
lists and removes secret consumers (`secrets.register_consumer`, microversion 1.1+), checks that a
secret with consumers is only deleted with `force=True` (microversion 1.2), and deletes everything.
Exits non-zero with a message naming the failed check. Run by crates/arca-cli/tests/compat.rs.
"""

import os
import sys
import traceback
import uuid

from barbicanclient import exceptions as barbican_exc

from compat_common import CHECKS, check, expect_http_error, make_client

def main():
    url = os.environ.get("ARCA_URL", "").rstrip("/")
    token = os.environ.get("ARCA_TOKEN", "")
    if not url or not token:
        print("FAIL: set ARCA_URL and ARCA_TOKEN", file=sys.stderr)
        return 2
    client = make_client(url, token)
    version = client.client.microversion
    check(version == "1.2", "client negotiated microversion 1.2", repr(version))
    tag = uuid.uuid4().hex[:10]

    def stored(name, payload):
        return client.secrets.create(name=f"{name}-{tag}", payload=payload).store()

    # --- generic ------------------------------------------------------------
    s1 = client.secrets.get(stored("one", "payload one"))
    s2 = client.secrets.get(stored("two", "payload two"))
    generic = client.containers.create(name=f"generic-{tag}", secrets={"first": s1, "second": s2})
    generic_ref = generic.store()
    check(generic_ref.startswith(url + "/v1/containers/"), "store generic container",
          repr(generic_ref))
    got = client.containers.get(generic_ref)
    check(got.name == f"generic-{tag}", "get generic: name", repr(got.name))
    check(got.type == "generic" if hasattr(got, "type") else True, "get generic: type")
    check(sorted(got.secret_refs) == ["first", "second"], "get generic: secret names",
          repr(got.secret_refs))
    check(got.secret_refs["first"] == s1.secret_ref, "get generic: secret ref round-trips")
    check(got.secrets["second"].payload == "payload two",
          "secret reached through the container has its payload")
    check(got.status == "ACTIVE" and got.created is not None, "get generic: status and created")

    # --- rsa ----------------------------------------------------------------
    pub = client.secrets.get(stored("pub", "public key"))
    priv = client.secrets.get(stored("priv", "private key"))
    phrase = client.secrets.get(stored("phrase", "passphrase"))
    rsa_ref = client.containers.create_rsa(name=f"rsa-{tag}", public_key=pub, private_key=priv,
                                           private_key_passphrase=phrase).store()
    rsa = client.containers.get(rsa_ref)
    check(type(rsa).__name__ == "RSAContainer", "get rsa: an RSAContainer", type(rsa).__name__)
    check(rsa.public_key.secret_ref == pub.secret_ref and
          rsa.private_key.secret_ref == priv.secret_ref and
          rsa.private_key_passphrase.secret_ref == phrase.secret_ref,
          "get rsa: the three keys")

    # --- certificate --------------------------------------------------------
    cert = client.secrets.get(stored("cert", "certificate"))
    inter = client.secrets.get(stored("inter", "intermediates"))
    cert_ref = client.containers.create_certificate(name=f"cert-{tag}", certificate=cert,
                                                    intermediates=inter, private_key=priv).store()
    got_cert = client.containers.get(cert_ref)
    check(type(got_cert).__name__ == "CertificateContainer",
          "get certificate: a CertificateContainer", type(got_cert).__name__)
    check(got_cert.certificate.secret_ref == cert.secret_ref and
          got_cert.intermediates.secret_ref == inter.secret_ref,
          "get certificate: certificate and intermediates")

    # --- bad containers -----------------------------------------------------
    expect_http_error(lambda: client.containers.create_rsa(name="bad", public_key=pub).store(),
                      400, "rsa container without private_key is 400")

    # --- list ---------------------------------------------------------------
    listed = {c.container_ref for c in client.containers.list(limit=100)}
    check({generic_ref, rsa_ref, cert_ref} <= listed, "list contains all three")
    rsas = client.containers.list(type="rsa", limit=100)
    check([c.container_ref for c in rsas] == [rsa_ref], "list type=rsa",
          repr([c.container_ref for c in rsas]))
    named = client.containers.list(name=f"cert-{tag}")
    check([c.container_ref for c in named] == [cert_ref], "list name=")

    # --- container consumers --------------------------------------------------
    with_consumer = client.containers.register_consumer(generic_ref, "lbaas", "http://lb/" + tag)
    check(with_consumer.consumers == [{"name": "lbaas", "URL": "http://lb/" + tag}],
          "register_consumer answers the container with its consumer",
          repr(with_consumer.consumers))
    again = client.containers.register_consumer(generic_ref, "lbaas", "http://lb/" + tag)
    check(len(again.consumers) == 1, "register_consumer is idempotent")
    client.containers.remove_consumer(generic_ref, "lbaas", "http://lb/" + tag)
    check(client.containers.get(generic_ref).consumers == [], "remove_consumer removes it")
    expect_http_error(lambda: client.containers.remove_consumer(generic_ref, "lbaas", "x"), 404,
                      "removing an unknown consumer is 404")

    # --- secret consumers ------------------------------------------------------
    consumed = client.secrets.register_consumer(s1.secret_ref, "image", "image", "img-" + tag)
    check(consumed.consumers == [{"service": "image", "resource_type": "image",
                                  "resource_id": "img-" + tag}],
          "secrets.register_consumer answers the secret with its consumer",
          repr(consumed.consumers))
    listed = client.secrets.list_consumers(s1.secret_ref)
    check(len(listed) == 1 and listed[0].service == "image", "secrets.list_consumers")
    check(len(client.secrets.get(s1.secret_ref).consumers) == 1,
          "secret metadata carries its consumers")
    try:
        client.secrets.delete(s1.secret_ref)
        raise AssertionError("deleting a secret with consumers succeeded without force")
    except barbican_exc.SecretHasConsumers:
        check(True, "delete without force raises SecretHasConsumers")
    client.secrets.remove_consumer(s1.secret_ref, "image", "image", "img-" + tag)
    check(client.secrets.list_consumers(s1.secret_ref) == [], "secrets.remove_consumer")
    client.secrets.register_consumer(s2.secret_ref, "volume", "volume", "vol-" + tag)
    client.secrets.delete(s2.secret_ref, force=True)
    expect_http_error(lambda: client.secrets.get(s2.secret_ref).name, 404,
                      "delete with force=True deletes a secret with consumers")
    check(sorted(client.containers.get(generic_ref).secret_refs) == ["first"],
          "a deleted secret leaves its containers")

    # --- delete -----------------------------------------------------------------
    for ref in (generic_ref, rsa_ref, cert_ref):
        client.containers.delete(ref)
    expect_http_error(lambda: client.containers.get(generic_ref).name, 404,
                      "deleted container is 404")
    expect_http_error(lambda: client.containers.delete(rsa_ref), 404, "deleting it again is 404")

    print(f"barbicanclient containers compat: {len(CHECKS)} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report any failure as a test failure
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
