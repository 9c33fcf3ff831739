"""The `aws` CLI (awscli, `aws kms … --endpoint-url`) against Arca's AWS KMS API: create-key, describe-key,
list-keys, encrypt with `--plaintext fileb://` and decrypt with `--ciphertext-blob fileb://` through
`--output text --query Plaintext | base64 -d`, generate-data-key, get-public-key, sign/verify, generate-mac/
verify-mac, generate-random, aliases, tags, rotation, disable/enable, deletion scheduling, and AWS's error
lines with the exit status of a failed call.

Environment: as kms_common.py, plus ARCA_AWS (the `aws` executable; default: `aws` beside this Python).
Credentials go to `aws` only through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_DEFAULT_REGION, with
AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE pointing at empty files."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kms_common import URL, REGION, check, creds, done, key_arn, unique

AWS = os.environ.get("ARCA_AWS") or os.path.join(os.path.dirname(sys.executable), "aws")
WORK = tempfile.mkdtemp(prefix="arca-kms-awscli-")
for name in ("config", "credentials"):
    open(os.path.join(WORK, name), "w").close()


def aws_env(role=None):
    akid, secret = creds(role)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": akid,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.path.join(WORK, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(WORK, "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "AWS_PAGER": "",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    return env


def run(args, role=None):
    """`aws kms ARGS --endpoint-url URL` → CompletedProcess (text)."""
    cmd = [AWS, "kms", *args, "--endpoint-url", URL]
    return subprocess.run(cmd, env=aws_env(role), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def ok(args, what, role=None):
    """Runs `aws kms ARGS`, which must succeed; returns stdout (parsed as JSON unless --output text)."""
    p = run(args, role)
    check(p.returncode == 0, f"aws kms {args[0]}: {what}",
          f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    if "--output" in args and args[args.index("--output") + 1] == "text":
        return p.stdout.strip()
    return json.loads(p.stdout) if p.stdout.strip() else {}


def fails(args, code, what, role=None):
    """`aws kms ARGS` must fail with AWS's error line naming `code` (a 4xx: the CLI prints the code)."""
    p = run(args, role)
    check(p.returncode != 0, f"aws kms {args[0]}: {what}: fails", f"stdout: {p.stdout}")
    check(f"An error occurred ({code})" in p.stderr, f"aws kms {args[0]}: {what}: ({code})", p.stderr)
    check("(500)" not in p.stderr and "InternalException" not in p.stderr,
          f"aws kms {args[0]}: {what}: not a server error", p.stderr)
    return p


def path_of(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def verifies(pub, sig, message):
    try:
        pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def b64d(text):
    return base64.b64decode(text.strip())


version = subprocess.run([AWS, "--version"], capture_output=True, text=True, env=aws_env())
check(version.returncode == 0 and "aws-cli/" in (version.stdout + version.stderr), "aws --version",
      version.stdout + version.stderr)

# --- keys -----------------------------------------------------------------------------------------------
md = ok(["create-key", "--description", "awscli key", "--tags", "TagKey=made-by,TagValue=awscli"],
        "create a symmetric key")["KeyMetadata"]
key = md["KeyId"]
check(md.get("KeySpec") == "SYMMETRIC_DEFAULT" and md.get("Arn") == key_arn(key), "create-key: spec and ARN", md)
got = ok(["describe-key", "--key-id", key], "by id")["KeyMetadata"]
check(got.get("KeyId") == key and got.get("Description") == "awscli key", "describe-key shows the key", got)
ok(["update-key-description", "--key-id", key, "--description", "awscli changed"], "change the description")
check(ok(["describe-key", "--key-id", key_arn(key)], "by ARN")["KeyMetadata"]["Description"] == "awscli changed",
      "describe-key by ARN shows the new description")
ids = ok(["list-keys", "--output", "text", "--query", "Keys[].KeyId"], "list every key (CLI paginates)").split()
check(key in ids, "list-keys lists the key", ids)
page = ok(["list-keys", "--limit", "1", "--no-paginate"], "one page")
check(len(page["Keys"]) == 1, "list-keys --limit 1 --no-paginate returns one key", page)

# --- encrypt / decrypt through files and base64 -------------------------------------------------------------
plaintext = os.urandom(200)
pt_file = path_of("plain.bin", plaintext)
ct_b64 = ok(["encrypt", "--key-id", key, "--plaintext", f"fileb://{pt_file}", "--encryption-context",
             "app=awscli,stage=test", "--output", "text", "--query", "CiphertextBlob"], "encrypt a file")
ct_file = path_of("cipher.bin", b64d(ct_b64))
out = ok(["decrypt", "--ciphertext-blob", f"fileb://{ct_file}", "--encryption-context", "app=awscli,stage=test",
          "--output", "text", "--query", "Plaintext"], "decrypt the file")
check(b64d(out) == plaintext, "decrypt --output text --query Plaintext | base64 -d gives the plaintext back")
pipe = subprocess.run(
    f'"{AWS}" kms decrypt --ciphertext-blob fileb://{ct_file} --encryption-context app=awscli,stage=test '
    f'--endpoint-url {URL} --output text --query Plaintext | base64 -d', shell=True, env=aws_env(),
    capture_output=True, timeout=120)
check(pipe.returncode == 0 and pipe.stdout == plaintext, "the documented shell pipeline `… | base64 -d` works",
      pipe.stderr)
fails(["decrypt", "--ciphertext-blob", f"fileb://{ct_file}", "--encryption-context", "app=awscli"],
      "InvalidCiphertextException", "decrypt with the wrong encryption context")
tampered = bytearray(b64d(ct_b64))
tampered[-1] ^= 1
fails(["decrypt", "--ciphertext-blob", f"fileb://{path_of('tampered.bin', bytes(tampered))}",
       "--encryption-context", "app=awscli,stage=test"], "InvalidCiphertextException", "decrypt a tampered blob")
fails(["encrypt", "--key-id", key, "--plaintext", f"fileb://{path_of('big.bin', os.urandom(4097))}"],
      "ValidationException", "encrypt 4097 bytes")

# --- generate-data-key / generate-random -----------------------------------------------------------------------
dk = ok(["generate-data-key", "--key-id", key, "--key-spec", "AES_256"], "AES_256")
data_key = b64d(dk["Plaintext"])
check(len(data_key) == 32 and dk.get("KeyId") == key_arn(key), "generate-data-key: a 32-byte key and the key ARN", dk["KeyId"])
wrapped = path_of("dk.bin", b64d(dk["CiphertextBlob"]))
check(b64d(ok(["decrypt", "--ciphertext-blob", f"fileb://{wrapped}", "--output", "text", "--query", "Plaintext"],
              "the data key"))
      == data_key, "generate-data-key: CiphertextBlob decrypts to Plaintext")
dk = ok(["generate-data-key", "--key-id", key, "--number-of-bytes", "48"], "48 bytes")
check(len(b64d(dk["Plaintext"])) == 48, "generate-data-key --number-of-bytes 48")
dk = ok(["generate-data-key-without-plaintext", "--key-id", key, "--key-spec", "AES_128"], "AES_128")
check("Plaintext" not in dk and dk.get("CiphertextBlob"), "generate-data-key-without-plaintext", sorted(dk))
rnd = b64d(ok(["generate-random", "--number-of-bytes", "64", "--output", "text", "--query", "Plaintext"], "64 bytes"))
check(len(rnd) == 64, "generate-random --number-of-bytes 64", len(rnd))
fails(["generate-random", "--number-of-bytes", "1025"], "ValidationException", "1025 random bytes")

# --- sign / verify with get-public-key -----------------------------------------------------------------------
sk = ok(["create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY"], "a P-256 signing key")
sk = sk["KeyMetadata"]["KeyId"]
pub_der = b64d(ok(["get-public-key", "--key-id", sk, "--output", "text", "--query", "PublicKey"], "P-256"))
pub = serialization.load_der_public_key(pub_der)
check(isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1", "get-public-key: a P-256 SPKI")
message = b"signed through the aws cli"
msg_file = path_of("msg.bin", message)
sig = b64d(ok(["sign", "--key-id", sk, "--message", f"fileb://{msg_file}", "--message-type", "RAW",
               "--signing-algorithm", "ECDSA_SHA_256", "--output", "text", "--query", "Signature"], "RAW"))
check(verifies(pub, sig, message), "sign: the signature verifies in cryptography with the get-public-key key")
sig_file = path_of("sig.der", sig)
v = ok(["verify", "--key-id", sk, "--message", f"fileb://{msg_file}", "--message-type", "RAW",
        "--signing-algorithm", "ECDSA_SHA_256", "--signature", f"fileb://{sig_file}"], "the signature")
check(v.get("SignatureValid") is True, "verify: SignatureValid true", v)
digest_file = path_of("digest.bin", hashlib.sha256(message).digest())
sig2 = b64d(ok(["sign", "--key-id", sk, "--message", f"fileb://{digest_file}", "--message-type", "DIGEST",
                "--signing-algorithm", "ECDSA_SHA_256", "--output", "text", "--query", "Signature"], "DIGEST"))
check(verifies(pub, sig2, message), "sign --message-type DIGEST: verifies over the raw message")
fails(["verify", "--key-id", sk, "--message", f"fileb://{path_of('other.bin', b'another message')}",
       "--message-type", "RAW", "--signing-algorithm", "ECDSA_SHA_256", "--signature", f"fileb://{sig_file}"],
      "KMSInvalidSignatureException", "verify another message")
fails(["encrypt", "--key-id", sk, "--plaintext", f"fileb://{pt_file}"], "InvalidKeyUsageException",
      "encrypt with a signing key")
fails(["create-key", "--key-spec", "RSA_1024", "--key-usage", "SIGN_VERIFY"], "ValidationException",
      "an invalid key spec")

# --- generate-mac / verify-mac ----------------------------------------------------------------------------------
mk = ok(["create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC"], "an HMAC key")
mk = mk["KeyMetadata"]["KeyId"]
mac = b64d(ok(["generate-mac", "--key-id", mk, "--message", f"fileb://{msg_file}", "--mac-algorithm", "HMAC_SHA_256",
               "--output", "text", "--query", "Mac"], "HMAC_SHA_256"))
check(len(mac) == 32, "generate-mac: 32 bytes", len(mac))
mac_file = path_of("mac.bin", mac)
v = ok(["verify-mac", "--key-id", mk, "--message", f"fileb://{msg_file}", "--mac-algorithm", "HMAC_SHA_256",
        "--mac", f"fileb://{mac_file}"], "the MAC")
check(v.get("MacValid") is True, "verify-mac: MacValid true", v)
fails(["verify-mac", "--key-id", mk, "--message", f"fileb://{pt_file}", "--mac-algorithm", "HMAC_SHA_256",
       "--mac", f"fileb://{mac_file}"], "KMSInvalidMacException", "verify-mac of another message")

# --- aliases and tags ------------------------------------------------------------------------------------------------
alias = f"alias/{unique('awscli')}"
ok(["create-alias", "--alias-name", alias, "--target-key-id", key], "create an alias")
fails(["create-alias", "--alias-name", alias, "--target-key-id", key], "AlreadyExistsException", "the same alias again")
aliases = ok(["list-aliases", "--key-id", key], "of the key")["Aliases"]
check(any(a.get("AliasName") == alias and a.get("TargetKeyId") == key for a in aliases), "list-aliases --key-id", aliases)
check(ok(["describe-key", "--key-id", alias], "by alias")["KeyMetadata"]["KeyId"] == key, "describe-key by alias")
# AWS: an alias moves only between keys of the same type and usage.
key2 = ok(["create-key", "--description", "awscli second key"], "a second symmetric key")["KeyMetadata"]["KeyId"]
fails(["update-alias", "--alias-name", alias, "--target-key-id", mk], "ValidationException",
      "update-alias to a key of another type and usage")
ok(["update-alias", "--alias-name", alias, "--target-key-id", key2], "retarget the alias")
check(ok(["describe-key", "--key-id", alias], "by retargeted alias")["KeyMetadata"]["KeyId"] == key2,
      "update-alias retargets")
ok(["delete-alias", "--alias-name", alias], "delete the alias")
fails(["describe-key", "--key-id", alias], "NotFoundException", "a deleted alias")
ok(["tag-resource", "--key-id", key, "--tags", "TagKey=env,TagValue=ci", "TagKey=team,TagValue=kms"], "two tags")
tags = {t["TagKey"]: t["TagValue"] for t in ok(["list-resource-tags", "--key-id", key], "of the key")["Tags"]}
check(tags == {"made-by": "awscli", "env": "ci", "team": "kms"}, "list-resource-tags", tags)
ok(["untag-resource", "--key-id", key, "--tag-keys", "env"], "one tag")
tags = {t["TagKey"]: t["TagValue"] for t in ok(["list-resource-tags", "--key-id", key], "after untag")["Tags"]}
check(tags == {"made-by": "awscli", "team": "kms"}, "untag-resource", tags)

# --- rotation -------------------------------------------------------------------------------------------------------
ok(["enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "90"], "every 90 days")
st = ok(["get-key-rotation-status", "--key-id", key], "enabled")
check(st.get("KeyRotationEnabled") is True and st.get("RotationPeriodInDays") == 90, "get-key-rotation-status", st)
ok(["rotate-key-on-demand", "--key-id", key], "rotate now")
rotations = ok(["list-key-rotations", "--key-id", key], "after one rotation")["Rotations"]
check(len(rotations) == 1 and rotations[0].get("RotationType") == "ON_DEMAND", "list-key-rotations", rotations)
check(b64d(ok(["decrypt", "--ciphertext-blob", f"fileb://{ct_file}", "--encryption-context", "app=awscli,stage=test",
               "--output", "text", "--query", "Plaintext"], "pre-rotation ciphertext")) == plaintext,
      "ciphertext from before the rotation still decrypts")
ok(["disable-key-rotation", "--key-id", key], "disable rotation")
check(ok(["get-key-rotation-status", "--key-id", key], "disabled")["KeyRotationEnabled"] is False,
      "disable-key-rotation")

# --- disable / enable, deletion -----------------------------------------------------------------------------------------
ok(["disable-key", "--key-id", key], "disable")
check(ok(["describe-key", "--key-id", key], "disabled")["KeyMetadata"]["KeyState"] == "Disabled", "disable-key")
fails(["encrypt", "--key-id", key, "--plaintext", f"fileb://{pt_file}"], "DisabledException", "encrypt while disabled")
ok(["enable-key", "--key-id", key], "enable")
check(ok(["describe-key", "--key-id", key], "enabled")["KeyMetadata"]["KeyState"] == "Enabled", "enable-key")
fails(["schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "6"], "ValidationException", "6 days")
r = ok(["schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7"], "7 days")
check(r.get("KeyState") == "PendingDeletion" and r.get("PendingWindowInDays") == 7, "schedule-key-deletion", r)
fails(["encrypt", "--key-id", key, "--plaintext", f"fileb://{pt_file}"], "KMSInvalidStateException",
      "encrypt while pending deletion")
ok(["cancel-key-deletion", "--key-id", key], "cancel")
check(ok(["describe-key", "--key-id", key], "after cancel")["KeyMetadata"]["KeyState"] == "Disabled",
      "cancel-key-deletion leaves the key Disabled")

# --- roles and credentials through the CLI --------------------------------------------------------------------------------
check(ok(["describe-key", "--key-id", key], "as observer", role="observer")["KeyMetadata"]["KeyId"] == key,
      "observer: describe-key")
ok(["enable-key", "--key-id", key], "enable again")
fails(["encrypt", "--key-id", key, "--plaintext", f"fileb://{pt_file}"], "AccessDeniedException",
      "observer may not encrypt", role="observer")
fails(["describe-key", "--key-id", key], "NotFoundException", "another project", role="other")
env = aws_env()
env["AWS_SECRET_ACCESS_KEY"] = env["AWS_SECRET_ACCESS_KEY"] + "x"
p = subprocess.run([AWS, "kms", "list-keys", "--endpoint-url", URL], env=env, capture_output=True, text=True,
                   timeout=120)
check(p.returncode != 0 and "(InvalidSignatureException)" in p.stderr, "a wrong secret → InvalidSignatureException",
      p.stderr)
env = aws_env()
env["AWS_ACCESS_KEY_ID"] = "AKIAARCAUNKNOWN00000"
p = subprocess.run([AWS, "kms", "list-keys", "--endpoint-url", URL], env=env, capture_output=True, text=True,
                   timeout=120)
check(p.returncode != 0 and "(UnrecognizedClientException)" in p.stderr,
      "an unknown access key → UnrecognizedClientException", p.stderr)
done("kms_awscli")
