#!/usr/bin/env python3
"""python-barbicanclient against a running Arca, with a token and no Keystone.

Environment:
  ARCA_URL    base URL of the server, e.g. http://127.0.0.1:9311 (no /v1)
  ARCA_TOKEN  a token whose principal may create, read and delete secrets (admin)
  ARCA_COMPAT_DEBUG=1  log every request and response (keystoneauth debug log)

Stores, reads (metadata and payload), lists and deletes a text secret and a
binary secret, the way an OpenStack service would. Exits non-zero with a message
naming the failed check. Run by crates/arca-cli/tests/compat.rs (via scripts/test).
"""

import logging
import os
import sys
import traceback
import uuid

from keystoneauth1 import exceptions as ks_exc

from compat_common import CHECKS, check, expect_http_error, make_client

def secret_id(ref):
    return ref.rstrip("/").rsplit("/", 1)[-1]


def main():
    url = os.environ.get("ARCA_URL", "").rstrip("/")
    token = os.environ.get("ARCA_TOKEN", "")
    if not url or not token:
        print("FAIL: set ARCA_URL and ARCA_TOKEN", file=sys.stderr)
        return 2
    if os.environ.get("ARCA_COMPAT_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)

    # Version discovery (GET / with OpenStack-API-Version: key-manager 1.1)
    # happens inside the constructor.
    client = make_client(url, token)
    print(f"ok   client constructed (negotiated microversion "
          f"{client.client.microversion})", flush=True)

    tag = uuid.uuid4().hex[:12]
    text_name = f"compat-text-{tag}"
    bin_name = f"compat-bin-{tag}"
    text_payload = "hello from barbicanclient \u00e9\u00e8\u2713 \U0001F511 " + tag
    bin_payload = bytes(range(256)) + os.urandom(64) + b"\x00\xff\x00"

    # --- store --------------------------------------------------------------
    text_secret = client.secrets.create(name=text_name, payload=text_payload)
    text_ref = text_secret.store()
    check(isinstance(text_ref, str) and text_ref.startswith(url + "/v1/secrets/"),
          "store text: secret_ref is <ARCA_URL>/v1/secrets/<id>", repr(text_ref))
    uuid.UUID(secret_id(text_ref))  # barbicanclient requires a UUID id

    bin_secret = client.secrets.create(name=bin_name, payload=bin_payload)
    bin_ref = bin_secret.store()
    check(isinstance(bin_ref, str) and bin_ref.startswith(url + "/v1/secrets/"),
          "store binary: secret_ref is <ARCA_URL>/v1/secrets/<id>", repr(bin_ref))
    check(bin_ref != text_ref, "two stores give two refs")

    # --- metadata -------------------------------------------------------------
    meta = client.secrets.get(text_ref)
    check(meta.name == text_name, "get text: name round-trips", f"{meta.name!r}")
    check(meta.status == "ACTIVE", "get text: status ACTIVE", f"{meta.status!r}")
    check(meta.secret_type == "opaque", "get text: default secret_type is opaque",
          f"{meta.secret_type!r}")
    check(meta.content_types == {"default": "text/plain"},
          "get text: content_types == {'default': 'text/plain'}", f"{meta.content_types!r}")
    check(meta.created is not None, "get text: created is set", f"{meta.created!r}")

    bmeta = client.secrets.get(bin_ref)
    check(bmeta.name == bin_name, "get binary: name round-trips", f"{bmeta.name!r}")
    check(bmeta.content_types == {"default": "application/octet-stream"},
          "get binary: content_types == {'default': 'application/octet-stream'}",
          f"{bmeta.content_types!r}")

    # --- payload (fresh objects: the payload is fetched lazily) ---------------
    got_text = client.secrets.get(text_ref).payload
    check(isinstance(got_text, str) and got_text == text_payload,
          "payload text: exact round trip (Accept: text/plain)",
          f"sent {text_payload!r}, got {got_text!r}")

    got_bin = client.secrets.get(bin_ref).payload
    check(isinstance(got_bin, bytes) and got_bin == bin_payload,
          "payload binary: exact round trip (Accept: application/octet-stream)",
          f"sent {len(bin_payload)} bytes {bin_payload[:16]!r}..., got "
          f"{type(got_bin).__name__} {got_bin[:16]!r}... "
          f"(len {len(got_bin) if got_bin is not None else None})")

    # bare id instead of a full ref works too
    got_by_id = client.secrets.get(secret_id(text_ref)).payload
    check(got_by_id == text_payload, "payload by bare id", f"{got_by_id!r}")

    # --- list -----------------------------------------------------------------
    listed = client.secrets.list(limit=100)
    refs = {s.secret_ref for s in listed}
    check(text_ref in refs and bin_ref in refs, "list contains both refs",
          f"listed {len(listed)} secrets: {sorted(refs)}")
    by_name = client.secrets.list(name=text_name)
    check([s.secret_ref for s in by_name] == [text_ref], "list name= filter",
          f"{[s.secret_ref for s in by_name]}")
    check(by_name[0].name == text_name, "list entries carry metadata (name)")
    total = client.secrets.total()
    check(isinstance(total, int) and total >= 2, "list limit=0 gives total", f"{total!r}")

    # --- delete ---------------------------------------------------------------
    client.secrets.delete(text_ref)
    check(True, "delete text")
    expect_http_error(lambda: client.secrets.get(text_ref).name, 404,
                      "deleted text secret: metadata GET is 404")
    expect_http_error(lambda: client.secrets.get(text_ref, "text/plain").payload, 404,
                      "deleted text secret: payload GET is 404")
    expect_http_error(lambda: client.secrets.delete(text_ref), 404,
                      "deleting it again is 404")
    client.secrets.delete(bin_ref)
    expect_http_error(lambda: client.secrets.get(bin_ref).name, 404,
                      "deleted binary secret: metadata GET is 404")
    refs = {s.secret_ref for s in client.secrets.list(limit=100)}
    check(text_ref not in refs and bin_ref not in refs, "list no longer shows deleted secrets",
          f"{sorted(refs)}")
    expect_http_error(lambda: client.secrets.get(str(uuid.uuid4())).name, 404,
                      "unknown id is 404")

    # --- bad token ------------------------------------------------------------
    try:
        bad = make_client(url, "not-a-valid-token-" + tag)
    except ks_exc.http.Unauthorized as e:
        raise AssertionError("version discovery (GET / with a wrong X-Auth-Token) "
                             f"answered 401; Barbican's version document is public: {e}")
    expect_http_error(lambda: bad.secrets.list(), 401, "wrong token is 401")

    print(f"barbicanclient compat: {len(CHECKS)} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report any failure as a test failure
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
