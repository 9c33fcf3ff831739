"""What every AWS KMS compat script shares: the principals and boto3 clients from the environment the Rust
driver (crates/arca-cli/tests/compat_kms.rs) sets, named checks, the expected-AWS-error check (exception name
from `__type`, HTTP 4xx, never 5xx) and small helpers for keys and Arca's ciphertext blob header.
Imported from the scripts' own directory.

Environment:
  ARCA_URL                        the API listener, e.g. http://127.0.0.1:PORT
  ARCA_REGION                     the region clients sign for (default us-east-1)
  ARCA_PROJECT                    the main principal's project (the account field of its ARNs)
  ARCA_AKID, ARCA_SECRET          main principal (role admin)
  ARCA_CREATOR_AKID/_SECRET       same project, role creator
  ARCA_OBSERVER_AKID/_SECRET      same project, role observer
  ARCA_AUDIT_AKID/_SECRET         same project, role audit
  ARCA_OTHER_AKID/_SECRET         another project (ARCA_OTHER_PROJECT), role admin
"""

import os
import re
import sys
import tempfile
import uuid

# Nothing on this machine may leak into the clients: no profile, no shared config or credentials, no
# instance metadata. The driver sets these too; this keeps a script run by hand just as isolated.
_EMPTY = tempfile.mkdtemp(prefix="arca-kms-aws-")
for _name in ("config", "credentials"):
    open(os.path.join(_EMPTY, _name), "w").close()
os.environ.setdefault("AWS_CONFIG_FILE", os.path.join(_EMPTY, "config"))
os.environ.setdefault("AWS_SHARED_CREDENTIALS_FILE", os.path.join(_EMPTY, "credentials"))
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
              "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_CA_BUNDLE"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

URL = os.environ["ARCA_URL"].rstrip("/")
REGION = os.environ.get("ARCA_REGION", "us-east-1")
PROJECT = os.environ.get("ARCA_PROJECT", "")
OTHER_PROJECT = os.environ.get("ARCA_OTHER_PROJECT", "")

CHECKS = []
FAILED = []
# ARCA_KMS_KEEP_GOING=1: a failed check is printed and counted instead of stopping the script (for diagnosis:
# one run lists every failure; later checks may then fail only because an earlier one did).
KEEP_GOING = os.environ.get("ARCA_KMS_KEEP_GOING") == "1"


def check(cond, what, detail=""):
    """Record a passed check or raise with a message naming it."""
    if not cond:
        message = f"{what}{': ' + str(detail) if detail else ''}"
        if KEEP_GOING:
            FAILED.append(message)
            print(f"FAIL {message}", flush=True)
            return
        raise AssertionError(message)
    CHECKS.append(what)
    print(f"ok   {what}", flush=True)


def creds(role):
    """(access key id, secret) of a principal: None/'' for the main one, else creator/observer/audit/other."""
    prefix = "ARCA" if not role else f"ARCA_{role.upper()}"
    akid, secret = os.environ.get(f"{prefix}_AKID"), os.environ.get(f"{prefix}_SECRET")
    if not akid or not secret:
        raise SystemExit(f"{prefix}_AKID and {prefix}_SECRET must be set (the driver creates them with "
                         f"`arca access-key create`)")
    return akid, secret


def client(role=None, akid=None, secret=None, validate=True):
    """A boto3 KMS client for `role` (or explicit credentials) at ARCA_URL. No retries, so an error is
    seen as the server answered it, and a short timeout. `validate=False` turns off botocore's client-side
    parameter checks, to send values (e.g. RotationPeriodInDays 89) the server itself must refuse."""
    if akid is None:
        akid, secret = creds(role)
    cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                 parameter_validation=validate)
    return boto3.session.Session().client(
        "kms", endpoint_url=URL, region_name=REGION, aws_access_key_id=akid, aws_secret_access_key=secret,
        config=cfg)


def error_code(e):
    return e.response.get("Error", {}).get("Code", "")


def http_status(e):
    return e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def expect_error(code, fn, what=None):
    """fn() must fail with the AWS exception `code` (a name, or a tuple/set of acceptable names) in a 4xx
    answer with a message. A 5xx, another exception or success fails the check. Returns the ClientError."""
    codes = (code,) if isinstance(code, str) else tuple(code)
    what = what or f"refused with {' or '.join(codes)}"
    try:
        result = fn()
    except ClientError as e:
        status, got = http_status(e), error_code(e)
        if status >= 500:
            check(False, what, f"expected a 4xx {codes}, got a server error {status} {got}: "
                               f"{e.response.get('Error')}")
            return e
        check(got in codes and 400 <= status < 500, what,
              f"expected {'/'.join(codes)} (4xx), got {got} (HTTP {status}): {e.response.get('Error')}")
        msg = e.response.get("Error", {}).get("Message", "")
        check(isinstance(msg, str), f"{what}: the error carries a message")
        return e
    check(False, what, f"expected {'/'.join(codes)}, but the call succeeded and returned {_short(result)}")


def _short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "…"


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def key_arn(key_id, project=None, region=None):
    return f"arn:aws:kms:{region or REGION}:{project or PROJECT}:key/{key_id}"


def alias_arn(alias_name, project=None, region=None):
    return f"arn:aws:kms:{region or REGION}:{project or PROJECT}:{alias_name}"


def check_arn(arn, key_id, what):
    """An ARN `arn:aws:kms:<region>:<project>:key/<id>` naming `key_id` (and the project when known)."""
    m = re.match(r"^arn:aws:kms:([a-z0-9-]+):([^:]+):key/(.+)$", arn or "")
    check(m is not None, f"{what}: key ARN has AWS's form", arn)
    if m is None:
        return
    check(m.group(3) == key_id, f"{what}: ARN names the key", f"{arn} vs {key_id}")
    if PROJECT:
        check(m.group(2) == PROJECT, f"{what}: ARN account field is the project", arn)


def create_key(kms, spec="SYMMETRIC_DEFAULT", usage="ENCRYPT_DECRYPT", description="", tags=None):
    """CreateKey → KeyMetadata."""
    args = {"KeySpec": spec, "KeyUsage": usage, "Description": description or f"compat {spec} {usage}"}
    if tags:
        args["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
    return kms.create_key(**args)["KeyMetadata"]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def blob_key_and_version(blob):
    """Arca's symmetric ciphertext blob (CRYPTO.md): 0x01 ‖ key UUID[16] ‖ u32 key_version ‖ … →
    (key UUID string, raw 4 version bytes)."""
    if len(blob) < 21 or blob[0] != 1:
        raise AssertionError(f"not an Arca v1 ciphertext blob (first byte {blob[:1]!r}, {len(blob)} bytes)")
    return str(uuid.UUID(bytes=bytes(blob[1:17]))), bytes(blob[17:21])


def done(script):
    print(f"{script}: {len(CHECKS)} checks passed, {len(FAILED)} failed", flush=True)
    for message in FAILED:
        print(f"FAILED {message}", flush=True)
    sys.exit(1 if FAILED else 0)
