"""boto3 and hand-signed requests against Arca's AWS KMS API: authentication and authorisation. Wrong secret,
unknown access key, a signature date outside ±15 minutes, a tampered body, a target outside the signed headers;
AWS's error body; roles (observer describes and lists but uses nothing, audit reads no key, creator uses keys);
another project's keys are not found. None answers 5xx."""

import datetime
import json

import boto3
import botocore.auth
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from kms_common import (ClientError, OTHER_PROJECT, REGION, URL, check, client, create_key, creds, done,
                        expect_error, key_arn, unique)

admin = client()
akid, secret = creds(None)
http = requests.Session()
http.trust_env = False  # no proxy from the environment: the server is on loopback

# --- SigV4 failures through boto3 ------------------------------------------------------------------
check("Keys" in admin.list_keys(Limit=1), "the admin's own signature is accepted")
expect_error("InvalidSignatureException",
             lambda: client(akid=akid, secret=secret[:-1] + ("A" if secret[-1] != "A" else "B")).list_keys(),
             "wrong secret access key → InvalidSignatureException")
expect_error("UnrecognizedClientException",
             lambda: client(akid="AKIAARCAUNKNOWN00000", secret=secret).list_keys(),
             "unknown access key id → UnrecognizedClientException")
other_region = boto3.session.Session().client(
    "kms", endpoint_url=URL, region_name="eu-west-3", aws_access_key_id=akid, aws_secret_access_key=secret,
    config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
check("Keys" in other_region.list_keys(Limit=1), "a signature for another region is accepted (any region)")


# --- hand-signed requests ----------------------------------------------------------------------------
def signed(op, body, *, skew_minutes=0, key=akid, sec=secret, region=REGION, target_after_signing=False,
           body_after_signing=None):
    """A KMS request signed with botocore's SigV4Auth, its clock moved by `skew_minutes`; returns (status,
    parsed JSON body or None, headers)."""
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if not target_after_signing:
        headers["X-Amz-Target"] = f"TrentService.{op}"
    req = AWSRequest(method="POST", url=URL + "/", data=payload, headers=headers)
    real = botocore.auth.get_current_datetime

    def shifted(*args, **kwargs):
        return real(*args, **kwargs) + datetime.timedelta(minutes=skew_minutes)

    botocore.auth.get_current_datetime = shifted
    try:
        SigV4Auth(Credentials(key, sec), "kms", region).add_auth(req)
    finally:
        botocore.auth.get_current_datetime = real
    out_headers = dict(req.headers.items())
    if target_after_signing:
        out_headers["X-Amz-Target"] = f"TrentService.{op}"
    data = body_after_signing if body_after_signing is not None else req.body
    resp = http.post(URL + "/", data=data, headers=out_headers, timeout=30)
    try:
        parsed = resp.json()
    except ValueError:
        parsed = None
    return resp.status_code, parsed, resp.headers


def error_type(parsed):
    t = (parsed or {}).get("__type", "")
    return t.rsplit("#", 1)[-1]


def expect_raw(codes, result, what):
    status, parsed, headers = result
    codes = (codes,) if isinstance(codes, str) else tuple(codes)
    check(400 <= status < 500, f"{what}: a 4xx", f"HTTP {status}: {parsed}")
    check(isinstance(parsed, dict) and isinstance(parsed.get("__type"), str) and "message" in parsed,
          f"{what}: AWS's error body {{\"__type\", \"message\"}}", parsed)
    check(error_type(parsed) in codes, f"{what}: {'/'.join(codes)}", parsed)
    check(headers.get("Content-Type", "").startswith("application/x-amz-json-1.1"),
          f"{what}: Content-Type application/x-amz-json-1.1", headers.get("Content-Type"))


status, parsed, headers = signed("ListKeys", {"Limit": 1})
check(status == 200 and isinstance(parsed, dict) and "Keys" in parsed, "a hand-signed ListKeys is accepted",
      (status, parsed))
check(headers.get("Content-Type", "").startswith("application/x-amz-json-1.1"),
      "success answers are application/x-amz-json-1.1", headers.get("Content-Type"))
status, parsed, _ = signed("ListKeys", {"Limit": 1}, skew_minutes=-10)
check(status == 200, "a signature dated 10 minutes ago is accepted (±15 min)", (status, parsed))
status, parsed, _ = signed("ListKeys", {"Limit": 1}, skew_minutes=10)
check(status == 200, "a signature dated 10 minutes ahead is accepted (±15 min)", (status, parsed))
expect_raw("InvalidSignatureException", signed("ListKeys", {"Limit": 1}, skew_minutes=-20),
           "a signature dated 20 minutes ago (expired) → InvalidSignatureException")
expect_raw("InvalidSignatureException", signed("ListKeys", {"Limit": 1}, skew_minutes=20),
           "a signature dated 20 minutes ahead → InvalidSignatureException")
expect_raw("InvalidSignatureException", signed("ListKeys", {"Limit": 1}, sec=secret + "x"),
           "hand-signed with a wrong secret → InvalidSignatureException")
expect_raw("UnrecognizedClientException", signed("ListKeys", {"Limit": 1}, key="AKIAARCAUNKNOWN00000"),
           "hand-signed with an unknown access key → UnrecognizedClientException")
expect_raw("InvalidSignatureException",
           signed("ListKeys", {"Limit": 1}, body_after_signing=json.dumps({"Limit": 2}).encode()),
           "a body changed after signing → InvalidSignatureException")
expect_raw(("InvalidSignatureException", "IncompleteSignatureException", "AccessDeniedException"),
           signed("ListKeys", {"Limit": 1}, target_after_signing=True),
           "X-Amz-Target outside the signed headers is refused")
resp = http.post(URL + "/", data=b'{"Limit": 1}', timeout=30,
                 headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"})
try:
    body = resp.json()
except ValueError:
    body = None
expect_raw(("MissingAuthenticationTokenException", "IncompleteSignatureException", "AccessDeniedException",
            "UnrecognizedClientException", "InvalidSignatureException"), (resp.status_code, body, resp.headers),
           "no Authorization header is refused")
expect_raw(("UnknownOperationException", "ValidationException", "InvalidAction"),
           signed("NoSuchOperation", {}), "an unknown X-Amz-Target operation is refused")
status, parsed, headers = signed("ListKeys", {}, body_after_signing=None)
check(status == 200, "an empty JSON object body is fine", (status, parsed))
expect_raw(("SerializationException", "ValidationException"),
           signed("ListKeys", {"Limit": "not a number"}), "a mistyped field is refused")

# --- roles --------------------------------------------------------------------------------------------
key = create_key(admin, description="compat auth")["KeyId"]
alias = f"alias/{unique('compat-auth')}"
admin.create_alias(AliasName=alias, TargetKeyId=key)
admin.tag_resource(KeyId=key, Tags=[{"TagKey": "k", "TagValue": "v"}])
blob = admin.encrypt(KeyId=key, Plaintext=b"for roles")["CiphertextBlob"]
sig_key = create_key(admin, "ECC_NIST_P256", "SIGN_VERIFY")["KeyId"]

observer = client("observer")
check(observer.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key, "observer: DescribeKey")
check(observer.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key, "observer: DescribeKey by alias")
check(key in {k["KeyId"] for k in observer.list_keys(Limit=1000)["Keys"]}, "observer: ListKeys")
check(alias in {a["AliasName"] for a in observer.list_aliases(Limit=100)["Aliases"]}, "observer: ListAliases")
check("KeyRotationEnabled" in observer.get_key_rotation_status(KeyId=key), "observer: GetKeyRotationStatus")
check("Rotations" in observer.list_key_rotations(KeyId=key), "observer: ListKeyRotations")
check(observer.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "k", "TagValue": "v"}],
      "observer: ListResourceTags")
for fn, how in [
    (lambda: observer.encrypt(KeyId=key, Plaintext=b"x"), "Encrypt"),
    (lambda: observer.decrypt(CiphertextBlob=blob), "Decrypt"),
    (lambda: observer.generate_data_key(KeyId=key, KeySpec="AES_256"), "GenerateDataKey"),
    (lambda: observer.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key), "ReEncrypt"),
    (lambda: observer.sign(KeyId=sig_key, Message=b"m", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"),
     "Sign"),
    (lambda: observer.get_public_key(KeyId=sig_key), "GetPublicKey"),
    (lambda: observer.create_key(), "CreateKey"),
    (lambda: observer.disable_key(KeyId=key), "DisableKey"),
    (lambda: observer.update_key_description(KeyId=key, Description="no"), "UpdateKeyDescription"),
    (lambda: observer.schedule_key_deletion(KeyId=key, PendingWindowInDays=7), "ScheduleKeyDeletion"),
    (lambda: observer.create_alias(AliasName=f"alias/{unique('obs')}", TargetKeyId=key), "CreateAlias"),
    (lambda: observer.tag_resource(KeyId=key, Tags=[{"TagKey": "o", "TagValue": "o"}]), "TagResource"),
    (lambda: observer.enable_key_rotation(KeyId=key), "EnableKeyRotation"),
    (lambda: observer.rotate_key_on_demand(KeyId=key), "RotateKeyOnDemand"),
]:
    expect_error("AccessDeniedException", fn, f"observer: {how} → AccessDeniedException")
md = admin.describe_key(KeyId=key)["KeyMetadata"]
check(md.get("KeyState") == "Enabled" and md.get("Description") == "compat auth", "observer's refused changes left no trace")

audit = client("audit")
for fn, how in [
    (lambda: audit.describe_key(KeyId=key), "DescribeKey"),
    (lambda: audit.list_keys(), "ListKeys"),
    (lambda: audit.list_aliases(), "ListAliases"),
    (lambda: audit.list_resource_tags(KeyId=key), "ListResourceTags"),
    (lambda: audit.encrypt(KeyId=key, Plaintext=b"x"), "Encrypt"),
    (lambda: audit.decrypt(CiphertextBlob=blob), "Decrypt"),
    (lambda: audit.create_key(), "CreateKey"),
]:
    expect_error("AccessDeniedException", fn, f"audit: {how} → AccessDeniedException")

creator = client("creator")
own = create_key(creator, description="creator's key")["KeyId"]
ct = creator.encrypt(KeyId=key, Plaintext=b"creator uses")["CiphertextBlob"]
check(creator.decrypt(CiphertextBlob=ct)["Plaintext"] == b"creator uses", "creator: Encrypt/Decrypt a project key")
check(creator.decrypt(CiphertextBlob=blob)["Plaintext"] == b"for roles", "creator: Decrypt the admin's ciphertext")
check(admin.describe_key(KeyId=own)["KeyMetadata"]["KeyId"] == own, "creator's key belongs to the project")

# --- another project -------------------------------------------------------------------------------------
other = client("other")
for ref, how in [(key, "key id"), (key_arn(key), "key ARN"), (alias, "alias"),
                 (key_arn(key, project=OTHER_PROJECT) if OTHER_PROJECT else key, "key id in its own ARN")]:
    expect_error("NotFoundException", lambda r=ref: other.describe_key(KeyId=r),
                 f"another project: DescribeKey by {how} → NotFoundException")
    expect_error("NotFoundException", lambda r=ref: other.encrypt(KeyId=r, Plaintext=b"x"),
                 f"another project: Encrypt by {how} → NotFoundException")
expect_error(("NotFoundException", "InvalidCiphertextException", "AccessDeniedException"),
             lambda: other.decrypt(CiphertextBlob=blob), "another project: Decrypt of this project's ciphertext refused")
expect_error("NotFoundException", lambda: other.list_resource_tags(KeyId=key),
             "another project: ListResourceTags → NotFoundException")
expect_error("NotFoundException", lambda: other.schedule_key_deletion(KeyId=key, PendingWindowInDays=7),
             "another project: ScheduleKeyDeletion → NotFoundException")
check(key not in {k["KeyId"] for k in other.list_keys(Limit=1000)["Keys"]}, "another project: ListKeys hides the key")
check(alias not in {a["AliasName"] for a in other.list_aliases(Limit=100)["Aliases"]},
      "another project: ListAliases hides the alias")
theirs = create_key(other, description="other project's key")["KeyId"]
other.create_alias(AliasName=alias, TargetKeyId=theirs)
check(other.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == theirs,
      "the same alias name in another project names that project's key")
check(admin.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key, "and here it still names this project's key")
expect_error("NotFoundException", lambda: admin.describe_key(KeyId=theirs),
             "this project cannot see the other project's key")
check(admin.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled",
      "the other project's refused deletion left the key Enabled")
try:
    admin.list_keys(Limit=1)
except ClientError as e:
    raise AssertionError(f"ListKeys after the run failed: {e.response}")
done("kms_boto3_auth")
