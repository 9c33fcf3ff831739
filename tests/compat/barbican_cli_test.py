#!/usr/bin/env python3
"""The `barbican` CLI (python-barbicanclient) against Arca in trusted-headers mode.

Environment:
  ARCA_URL        base URL of a server started with ARCA_AUTH_MODE=trusted-headers
                  (`barbican --no-auth` sends X-Project-Id only, no X-Roles and no
                  X-User-Id; Arca's default trusted_default_roles makes that admin, as
                  Barbican's unauthenticated context does)
  ARCA_PROJECT    project id to act as (default: a fresh compat-cli-<random>)
  BARBICAN        path of the `barbican` executable (default: next to this python)

Stores a text secret and binary secrets (from --file, and as explicit base64),
reads metadata and payloads back (--payload and --file), lists, deletes, and checks
that a deleted secret is gone. Exits non-zero with a message naming the failed check.
Run by crates/arca-cli/tests/compat.rs (via scripts/test).
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import uuid

CHECKS = []


class CheckFailed(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise CheckFailed(f"{what}{': ' + detail if detail else ''}")
    CHECKS.append(what)
    print(f"ok   {what}", flush=True)


def barbican_path():
    explicit = os.environ.get("BARBICAN")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(sys.executable), "barbican")


class Cli:
    def __init__(self, exe, url, project):
        self.base = [exe, "--no-auth", "--endpoint", url, "--os-project-id", project,
                     "--timeout", "30"]

    def run(self, *args, ok=True):
        cmd = self.base + list(args)
        proc = subprocess.run(cmd, capture_output=True, timeout=120)
        shown = " ".join(cmd[1:])
        if ok and proc.returncode != 0:
            raise CheckFailed(
                f"`barbican {shown}` exited {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout.decode(errors='replace')}"
                f"--- stderr ---\n{proc.stderr.decode(errors='replace')}")
        return proc

    def list_refs(self, *args):
        """`secret list` as JSON (cliff refuses `-c` on an empty list): the hrefs."""
        out = self.run("secret", "list", *args, "-f", "json").stdout.decode()
        try:
            rows = json.loads(out)
        except ValueError:
            raise CheckFailed(f"`barbican secret list -f json` printed no JSON: {out!r}")
        return [row.get("Secret href") for row in rows]

    def value(self, *args):
        """Run a show/list command with `-f value` and return stdout as text."""
        return self.run(*args, "-f", "value").stdout.decode()


def main():
    url = os.environ.get("ARCA_URL", "").rstrip("/")
    if not url:
        print("FAIL: set ARCA_URL", file=sys.stderr)
        return 2
    exe = barbican_path()
    if not os.access(exe, os.X_OK):
        print(f"FAIL: no barbican executable at {exe} (run scripts/test to create the venv)",
              file=sys.stderr)
        return 2
    tag = uuid.uuid4().hex[:12]
    project = os.environ.get("ARCA_PROJECT") or f"compat-cli-{tag}"
    cli = Cli(exe, url, project)
    work = tempfile.mkdtemp(prefix="arca-barbican-cli-")

    # --- store ----------------------------------------------------------------
    text = f"hello from the barbican CLI {tag} \u00e9\u2713"
    text_ref = cli.value("secret", "store", "--name", f"cli-text-{tag}",
                         "--payload-content-type", "text/plain",
                         "--payload", text, "-c", "Secret href").strip()
    check(text_ref.startswith(url + "/v1/secrets/"),
          "store text (--payload-content-type text/plain): Secret href is "
          "<ARCA_URL>/v1/secrets/<id>", repr(text_ref))

    # --payload without a content type: the CLI encodes it to bytes and sends
    # application/octet-stream + base64.
    plain_ref = cli.value("secret", "store", "--payload", "x" + tag,
                          "-c", "Secret href").strip()
    check(plain_ref.startswith(url + "/v1/secrets/"),
          "store --payload without content type", repr(plain_ref))

    binary = bytes(range(256)) + os.urandom(32) + b"\x00"
    bin_in = os.path.join(work, "in.bin")
    with open(bin_in, "wb") as f:
        f.write(binary)
    file_ref = cli.value("secret", "store", "--name", f"cli-file-{tag}", "--file", bin_in,
                         "-c", "Secret href").strip()
    check(file_ref.startswith(url + "/v1/secrets/"), "store binary --file", repr(file_ref))

    b64_ref = cli.value("secret", "store", "--name", f"cli-b64-{tag}",
                        "--payload-content-type", "application/octet-stream",
                        "--payload-content-encoding", "base64",
                        "--payload", base64.b64encode(binary).decode(),
                        "-c", "Secret href").strip()
    check(b64_ref.startswith(url + "/v1/secrets/"),
          "store binary with --payload-content-encoding base64", repr(b64_ref))

    # --- metadata -------------------------------------------------------------
    name = cli.value("secret", "get", text_ref, "-c", "Name").strip()
    check(name == f"cli-text-{tag}", "get: Name round-trips", repr(name))
    status = cli.value("secret", "get", text_ref, "-c", "Status").strip()
    check(status == "ACTIVE", "get: Status ACTIVE", repr(status))
    ctypes = cli.value("secret", "get", text_ref, "-c", "Content types").strip()
    check("text/plain" in ctypes, "get: Content types shows text/plain", repr(ctypes))
    bctypes = cli.value("secret", "get", file_ref, "-c", "Content types").strip()
    check("application/octet-stream" in bctypes,
          "get binary: Content types shows application/octet-stream", repr(bctypes))
    algo = cli.value("secret", "get", file_ref, "-c", "Algorithm", "-c", "Bit length",
                     "-c", "Mode").split()
    check(algo == ["aes", "256", "cbc"],
          "get: algorithm/bit_length/mode sent by the CLI round-trip", repr(algo))

    # --- payloads ---------------------------------------------------------------
    got = cli.value("secret", "get", text_ref, "--payload", "-c", "Payload")
    check(got.rstrip("\n") == text, "get --payload: text round-trips exactly",
          f"sent {text!r}, got {got!r}")

    got_plain = os.path.join(work, "plain.out")
    cli.run("secret", "get", plain_ref, "--file", got_plain,
            "--payload_content_type", "application/octet-stream")
    with open(got_plain, "rb") as f:
        data = f.read()
    check(data == ("x" + tag).encode(), "get --file: --payload without content type "
          "round-trips as bytes", repr(data))

    for what, ref in (("--file", file_ref), ("base64", b64_ref)):
        out = os.path.join(work, f"out-{what.strip('-')}.bin")
        cli.run("secret", "get", ref, "--file", out,
                "--payload_content_type", "application/octet-stream")
        with open(out, "rb") as f:
            data = f.read()
        check(data == binary, f"get --file: binary stored with {what} round-trips exactly",
              f"sent {len(binary)} bytes {binary[:12]!r}..., got {len(data)} bytes "
              f"{data[:12]!r}...")

    # --- list -------------------------------------------------------------------
    listed = cli.list_refs("--limit", "100")
    for ref in (text_ref, plain_ref, file_ref, b64_ref):
        check(ref in listed, f"list shows {ref.rsplit('/', 1)[-1]}", repr(listed))
    named = cli.list_refs("--name", f"cli-text-{tag}")
    check(named == [text_ref], "list --name filter", repr(named))

    # --- delete -----------------------------------------------------------------
    for ref in (text_ref, plain_ref, file_ref, b64_ref):
        cli.run("secret", "delete", ref)
    check(True, "delete all four")
    gone = cli.run("secret", "get", text_ref, ok=False)
    err = (gone.stdout + gone.stderr).decode(errors="replace")
    check(gone.returncode != 0 and ("404" in err or "Not Found" in err),
          "get after delete fails with 404 / Not Found",
          f"exit {gone.returncode}, output: {err!r}")
    listed = cli.list_refs("--limit", "100")
    check(not ({text_ref, plain_ref, file_ref, b64_ref} & set(listed)),
          "list no longer shows deleted secrets", repr(listed))

    # --- project isolation --------------------------------------------------------
    other = Cli(exe, url, f"other-{tag}")
    iso_ref = cli.value("secret", "store", "--payload-content-type", "text/plain",
                        "--payload", "isolated", "-c", "Secret href").strip()
    foreign = other.run("secret", "get", iso_ref, "--payload", ok=False)
    ferr = (foreign.stdout + foreign.stderr).decode(errors="replace")
    check(foreign.returncode != 0 and "isolated" not in foreign.stdout.decode(errors="replace"),
          "another project cannot read the payload", f"exit {foreign.returncode}: {ferr!r}")
    cli.run("secret", "delete", iso_ref)

    print(f"barbican CLI compat: {len(CHECKS)} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as e:
        print(f"FAIL: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any error is a test failure
        import traceback
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
