"""boto3 against Arca's AWS KMS API: key rotation. EnableKeyRotation with a RotationPeriodInDays (90..2560),
GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations (with paging), ciphertext from before each rotation
still decrypting while new ciphertext is sealed by the new key version, DisableKeyRotation, and rotation
refused for keys that cannot rotate."""

import datetime
import time

from kms_common import (blob_key_and_version, check, client, create_key, done, expect_error, key_arn, unique)

kms = client()
novalidate = client(validate=False)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


key = create_key(kms, description="compat rotation")["KeyId"]
alias = f"alias/{unique('compat-rot')}"
kms.create_alias(AliasName=alias, TargetKeyId=key)

# --- status before anything ----------------------------------------------------------------------
st = kms.get_key_rotation_status(KeyId=key)
check(st.get("KeyRotationEnabled") is False, "GetKeyRotationStatus of a new key: disabled", st)
check(kms.list_key_rotations(KeyId=key)["Rotations"] == [], "ListKeyRotations of a new key is empty")

# --- EnableKeyRotation ----------------------------------------------------------------------------
for days in (89, 2561, 0):
    expect_error("ValidationException",
                 lambda d=days: novalidate.enable_key_rotation(KeyId=key, RotationPeriodInDays=d),
                 f"EnableKeyRotation RotationPeriodInDays {days} → ValidationException")
check(kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False,
      "refused EnableKeyRotation leaves rotation disabled")
before = now()
kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
st = kms.get_key_rotation_status(KeyId=key)
check(st.get("KeyRotationEnabled") is True, "EnableKeyRotation → KeyRotationEnabled", st)
check(st.get("RotationPeriodInDays") == 90, "GetKeyRotationStatus: RotationPeriodInDays 90", st)
check(st.get("KeyId") in (key, key_arn(key)), "GetKeyRotationStatus: KeyId", st.get("KeyId"))
nxt = st.get("NextRotationDate")
check(nxt is not None and 89 < (nxt - before).total_seconds() / 86400 < 91.1,
      "GetKeyRotationStatus: NextRotationDate ≈ now + 90 days", nxt)
kms.enable_key_rotation(KeyId=alias, RotationPeriodInDays=2560)
check(kms.get_key_rotation_status(KeyId=alias).get("RotationPeriodInDays") == 2560,
      "EnableKeyRotation again through an alias changes the period")
kms.enable_key_rotation(KeyId=key)
check(kms.get_key_rotation_status(KeyId=key).get("RotationPeriodInDays") == 365,
      "EnableKeyRotation without a period: 365 days (AWS's default)")
kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)

# --- RotateKeyOnDemand: old ciphertext still decrypts, new ciphertext uses the new version ------------
ctx = {"rotation": "compat"}
history = []  # (plaintext, blob)
for i in range(3):
    pt = f"sealed before rotation {i}".encode()
    blob = kms.encrypt(KeyId=key, Plaintext=pt, EncryptionContext=ctx)["CiphertextBlob"]
    history.append((pt, blob))
    r = kms.rotate_key_on_demand(KeyId=key)
    check(r["KeyId"] in (key, key_arn(key)), f"RotateKeyOnDemand {i + 1}: KeyId", r)
    # AWS rotates in the background; give a few seconds for the rotation to be listed.
    deadline = time.time() + 10
    while True:
        rotations = kms.list_key_rotations(KeyId=key)["Rotations"]
        if len(rotations) >= i + 1 or time.time() > deadline:
            break
        time.sleep(0.2)
    check(len(rotations) == i + 1, f"ListKeyRotations after {i + 1} on-demand rotations lists {i + 1}", rotations)
    for entry in rotations:
        check(entry.get("RotationType") == "ON_DEMAND", "ListKeyRotations entry: RotationType ON_DEMAND", entry)
        check(entry.get("KeyId") in (key, key_arn(key)), "ListKeyRotations entry: KeyId", entry)
        when = entry.get("RotationDate")
        check(when is not None and abs((now() - when).total_seconds()) < 300,
              "ListKeyRotations entry: RotationDate is now", when)
    new_blob = kms.encrypt(KeyId=key, Plaintext=pt, EncryptionContext=ctx)["CiphertextBlob"]
    _, old_version = blob_key_and_version(blob)
    new_key, new_version = blob_key_and_version(new_blob)
    check(new_key == key and new_version != old_version,
          f"rotation {i + 1}: new ciphertext is sealed by another key version", (old_version, new_version))
    for j, (old_pt, old_blob) in enumerate(history):
        d = kms.decrypt(CiphertextBlob=old_blob, EncryptionContext=ctx)
        check(d.get("Plaintext") == old_pt and d.get("KeyId") == key_arn(key),
              f"after rotation {i + 1}: ciphertext sealed before rotation {j + 1} still decrypts")
    check(kms.decrypt(CiphertextBlob=new_blob, EncryptionContext=ctx)["Plaintext"] == pt,
          f"after rotation {i + 1}: new ciphertext decrypts")
    st = kms.get_key_rotation_status(KeyId=key)
    check("OnDemandRotationStartDate" not in st, f"rotation {i + 1} finished (no OnDemandRotationStartDate)", st)

# ReEncrypt moves old ciphertext to the current version.
old_pt, old_blob = history[0]
r = kms.re_encrypt(CiphertextBlob=old_blob, SourceEncryptionContext=ctx, DestinationKeyId=key,
                   DestinationEncryptionContext=ctx)
check(blob_key_and_version(r["CiphertextBlob"])[1] == blob_key_and_version(new_blob)[1],
      "ReEncrypt of pre-rotation ciphertext seals with the current version")
check(kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == old_pt,
      "ReEncrypt after rotation round-trips")

# GenerateDataKey after rotation also decrypts.
dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
check(kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"],
      "GenerateDataKey after rotation decrypts")

# ListKeyRotations paging.
seen, marker, pages = [], None, 0
while True:
    args = {"KeyId": key, "Limit": 1}
    if marker:
        args["Marker"] = marker
    page = kms.list_key_rotations(**args)
    pages += 1
    seen += [e.get("RotationDate") for e in page["Rotations"]]
    if not page.get("Truncated"):
        break
    marker = page["NextMarker"]
    check(pages < 20, "ListKeyRotations paging terminates")
check(len(seen) == 3 and pages >= 3, "ListKeyRotations Limit 1 pages through all 3 rotations", seen)

# --- DisableKeyRotation ---------------------------------------------------------------------------
kms.disable_key_rotation(KeyId=key)
st = kms.get_key_rotation_status(KeyId=key)
check(st.get("KeyRotationEnabled") is False, "DisableKeyRotation → KeyRotationEnabled false", st)
check(not st.get("NextRotationDate"), "DisableKeyRotation: no NextRotationDate", st)
r = kms.rotate_key_on_demand(KeyId=key)
check(r["KeyId"] in (key, key_arn(key)), "RotateKeyOnDemand works with automatic rotation disabled")
for old_pt, old_blob in history:
    check(kms.decrypt(CiphertextBlob=old_blob, EncryptionContext=ctx)["Plaintext"] == old_pt,
          "every pre-rotation ciphertext still decrypts after the fourth rotation")

# --- keys that cannot rotate; key states ------------------------------------------------------------
for spec, usage in [("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY"),
                    ("HMAC_256", "GENERATE_VERIFY_MAC")]:
    other = create_key(kms, spec, usage)["KeyId"]
    expect_error("UnsupportedOperationException", lambda o=other: kms.enable_key_rotation(KeyId=o),
                 f"EnableKeyRotation of a {spec} key → UnsupportedOperationException")
    expect_error("UnsupportedOperationException", lambda o=other: kms.rotate_key_on_demand(KeyId=o),
                 f"RotateKeyOnDemand of a {spec} key → UnsupportedOperationException")
disabled = create_key(kms, description="compat rotation disabled")["KeyId"]
kms.disable_key(KeyId=disabled)
# AWS's key-state table is not explicit here: either exception is AWS-shaped, success is not.
expect_error(("DisabledException", "KMSInvalidStateException"), lambda: kms.rotate_key_on_demand(KeyId=disabled),
             "RotateKeyOnDemand of a disabled key is refused")
expect_error(("DisabledException", "KMSInvalidStateException"),
             lambda: kms.enable_key_rotation(KeyId=disabled, RotationPeriodInDays=90),
             "EnableKeyRotation of a disabled key is refused")
kms.schedule_key_deletion(KeyId=disabled, PendingWindowInDays=7)
expect_error("KMSInvalidStateException", lambda: kms.rotate_key_on_demand(KeyId=disabled),
             "RotateKeyOnDemand of a key pending deletion → KMSInvalidStateException")
expect_error("NotFoundException", lambda: kms.get_key_rotation_status(KeyId="00000000-0000-4000-8000-000000000000"),
             "GetKeyRotationStatus of a missing key → NotFoundException")
done("kms_boto3_rotation")
