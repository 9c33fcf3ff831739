"""boto3 against Arca's AWS KMS API: key management. CreateKey for every key spec and usage (with AWS's
metadata fields and algorithm lists), DescribeKey by id, key ARN, alias name and alias ARN, ListKeys paging,
UpdateKeyDescription, Enable/DisableKey (a disabled key refuses with DisabledException), ScheduleKeyDeletion
(7–30 days; 6 and 31 refused) and CancelKeyDeletion (back to Disabled), aliases and tags."""

import datetime

from kms_common import (ClientError, PROJECT, UUID_RE, alias_arn, check, check_arn, client, create_key,
                        done, expect_error, key_arn, unique)

kms = client()
novalidate = client(validate=False)

SPECS = [
    # spec, usage, EncryptionAlgorithms, SigningAlgorithms, MacAlgorithms
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", ["SYMMETRIC_DEFAULT"], None, None),
    ("RSA_2048", "ENCRYPT_DECRYPT", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], None, None),
    ("RSA_3072", "ENCRYPT_DECRYPT", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], None, None),
    ("RSA_4096", "ENCRYPT_DECRYPT", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], None, None),
]
RSA_SIGN = ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"]
SPECS += [(s, "SIGN_VERIFY", None, RSA_SIGN, None) for s in ("RSA_2048", "RSA_3072", "RSA_4096")]
SPECS += [
    ("ECC_NIST_P256", "SIGN_VERIFY", None, ["ECDSA_SHA_256"], None),
    ("ECC_NIST_P384", "SIGN_VERIFY", None, ["ECDSA_SHA_384"], None),
    ("ECC_NIST_P521", "SIGN_VERIFY", None, ["ECDSA_SHA_512"], None),
    ("ECC_SECG_P256K1", "SIGN_VERIFY", None, ["ECDSA_SHA_256"], None),
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", None, ["ED25519_SHA_512", "ED25519_PH_SHA_512"], None),
    ("HMAC_224", "GENERATE_VERIFY_MAC", None, None, ["HMAC_SHA_224"]),
    ("HMAC_256", "GENERATE_VERIFY_MAC", None, None, ["HMAC_SHA_256"]),
    ("HMAC_384", "GENERATE_VERIFY_MAC", None, None, ["HMAC_SHA_384"]),
    ("HMAC_512", "GENERATE_VERIFY_MAC", None, None, ["HMAC_SHA_512"]),
]


def now():
    return datetime.datetime.now(datetime.timezone.utc)


# --- CreateKey: every spec -------------------------------------------------------------------
created = {}
for spec, usage, enc, sig, mac in SPECS:
    what = f"CreateKey {spec}/{usage}"
    md = create_key(kms, spec, usage, description=f"compat {spec}")
    key_id = md["KeyId"]
    check(UUID_RE.match(key_id) is not None, f"{what}: KeyId is a UUID", key_id)
    check_arn(md["Arn"], key_id, what)
    check(md.get("KeySpec") == spec, f"{what}: KeySpec", md.get("KeySpec"))
    check(md.get("CustomerMasterKeySpec") in (None, spec), f"{what}: CustomerMasterKeySpec", md)
    check(md.get("KeyUsage") == usage, f"{what}: KeyUsage", md.get("KeyUsage"))
    check(md.get("KeyState") == "Enabled" and md.get("Enabled") is True, f"{what}: Enabled", md)
    check(md.get("Description") == f"compat {spec}", f"{what}: Description", md.get("Description"))
    check(md.get("Origin") == "AWS_KMS", f"{what}: Origin AWS_KMS", md.get("Origin"))
    check(md.get("KeyManager") == "CUSTOMER", f"{what}: KeyManager CUSTOMER", md.get("KeyManager"))
    if PROJECT:
        check(md.get("AWSAccountId") == PROJECT, f"{what}: AWSAccountId is the project", md.get("AWSAccountId"))
    created_at = md["CreationDate"]
    check(abs((now() - created_at).total_seconds()) < 300, f"{what}: CreationDate is now", created_at)
    if enc:
        check(sorted(md.get("EncryptionAlgorithms", [])) == sorted(enc), f"{what}: EncryptionAlgorithms", md)
    else:
        check(not md.get("EncryptionAlgorithms"), f"{what}: no EncryptionAlgorithms", md)
    if sig:
        check(sorted(md.get("SigningAlgorithms", [])) == sorted(sig), f"{what}: SigningAlgorithms", md)
    else:
        check(not md.get("SigningAlgorithms"), f"{what}: no SigningAlgorithms", md)
    if mac:
        check(sorted(md.get("MacAlgorithms", [])) == sorted(mac), f"{what}: MacAlgorithms", md)
    else:
        check(not md.get("MacAlgorithms"), f"{what}: no MacAlgorithms", md)
    created[(spec, usage)] = key_id

# CreateKey with no arguments: AWS's default is a symmetric encryption key.
md = kms.create_key()["KeyMetadata"]
check(md.get("KeySpec") == "SYMMETRIC_DEFAULT" and md.get("KeyUsage") == "ENCRYPT_DECRYPT",
      "CreateKey without arguments: SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT", md)
# KeyUsage omitted for an asymmetric spec is refused by AWS (ENCRYPT_DECRYPT is the default, and
# ECC keys only sign).
expect_error("ValidationException", lambda: kms.create_key(KeySpec="ECC_NIST_P256"),
             "CreateKey ECC_NIST_P256 with the default usage ENCRYPT_DECRYPT → ValidationException")
expect_error("ValidationException", lambda: kms.create_key(KeySpec="RSA_1024", KeyUsage="SIGN_VERIFY"),
             "CreateKey with an unknown KeySpec → ValidationException")
expect_error("ValidationException", lambda: kms.create_key(KeySpec="HMAC_256", KeyUsage="SIGN_VERIFY"),
             "CreateKey HMAC_256 for SIGN_VERIFY → ValidationException")
expect_error("ValidationException", lambda: kms.create_key(KeySpec="SYMMETRIC_DEFAULT",
                                                           KeyUsage="SIGN_VERIFY"),
             "CreateKey SYMMETRIC_DEFAULT for SIGN_VERIFY → ValidationException")
expect_error("ValidationException", lambda: kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="BOGUS_USAGE"),
             "CreateKey with an unknown KeyUsage → ValidationException")

# --- DescribeKey by id, ARN, alias, alias ARN --------------------------------------------------
sym = created[("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")]
alias = f"alias/{unique('compat-keys')}"
kms.create_alias(AliasName=alias, TargetKeyId=sym)
for ref, how in [(sym, "key id"), (key_arn(sym), "key ARN"), (alias, "alias name"),
                 (alias_arn(alias), "alias ARN")]:
    got = kms.describe_key(KeyId=ref)["KeyMetadata"]
    check(got.get("KeyId") == sym, f"DescribeKey by {how} finds the key", got.get("KeyId"))
    check_arn(got["Arn"], sym, f"DescribeKey by {how}")
missing = "00000000-0000-4000-8000-000000000000"
expect_error("NotFoundException", lambda: kms.describe_key(KeyId=missing), "DescribeKey of a missing key id")
expect_error("NotFoundException", lambda: kms.describe_key(KeyId="alias/compat-does-not-exist"),
             "DescribeKey of a missing alias")
expect_error(("NotFoundException", "ValidationException"), lambda: kms.describe_key(KeyId="not-a-key-id"),
             "DescribeKey of a malformed key id")

# --- ListKeys with Limit/Marker -----------------------------------------------------------------
all_ids = set(created.values()) | {md["KeyId"]}
seen, pages, marker = [], 0, None
while True:
    args = {"Limit": 2}
    if marker:
        args["Marker"] = marker
    page = kms.list_keys(**args)
    pages += 1
    check(len(page["Keys"]) <= 2, f"ListKeys page {pages}: at most Limit keys", len(page["Keys"]))
    for k in page["Keys"]:
        check_arn(k["KeyArn"], k["KeyId"], f"ListKeys entry {k['KeyId']}")
        seen.append(k["KeyId"])
    if not page.get("Truncated"):
        check(not page.get("NextMarker"), "ListKeys: no NextMarker on the last page", page.get("NextMarker"))
        break
    marker = page.get("NextMarker")
    check(bool(marker), f"ListKeys page {pages}: Truncated comes with a NextMarker", page)
    check(pages < 200, "ListKeys paging terminates")
check(len(seen) == len(set(seen)), "ListKeys paging returns no key twice", seen)
check(all_ids <= set(seen), "ListKeys paging returns every created key", all_ids - set(seen))
check(pages >= len(all_ids) // 2, "ListKeys Limit 2 really pages", pages)
full = kms.list_keys(Limit=1000)
check(all_ids <= {k["KeyId"] for k in full["Keys"]}, "ListKeys Limit 1000 in one page")
expect_error("ValidationException", lambda: novalidate.list_keys(Limit=0), "ListKeys Limit 0 → ValidationException")
expect_error("ValidationException", lambda: novalidate.list_keys(Limit=1001),
             "ListKeys Limit 1001 → ValidationException")
expect_error("InvalidMarkerException", lambda: kms.list_keys(Limit=2, Marker="not-a-marker!"),
             "ListKeys with a bogus Marker → InvalidMarkerException")

# --- UpdateKeyDescription -------------------------------------------------------------------------
kms.update_key_description(KeyId=sym, Description="changed by compat")
check(kms.describe_key(KeyId=sym)["KeyMetadata"]["Description"] == "changed by compat",
      "UpdateKeyDescription is visible in DescribeKey")
kms.update_key_description(KeyId=alias, Description="changed through the alias")
check(kms.describe_key(KeyId=sym)["KeyMetadata"]["Description"] == "changed through the alias",
      "UpdateKeyDescription through an alias")

# --- Disable / Enable ---------------------------------------------------------------------------
ct = kms.encrypt(KeyId=sym, Plaintext=b"before disable")["CiphertextBlob"]
kms.disable_key(KeyId=sym)
md = kms.describe_key(KeyId=sym)["KeyMetadata"]
check(md.get("KeyState") == "Disabled" and md.get("Enabled") is False, "DisableKey → KeyState Disabled", md)
expect_error("DisabledException", lambda: kms.encrypt(KeyId=sym, Plaintext=b"x"),
             "Encrypt with a disabled key → DisabledException")
expect_error("DisabledException", lambda: kms.decrypt(CiphertextBlob=ct),
             "Decrypt with a disabled key → DisabledException")
expect_error("DisabledException", lambda: kms.generate_data_key(KeyId=sym, KeySpec="AES_256"),
             "GenerateDataKey with a disabled key → DisabledException")
kms.enable_key(KeyId=sym)
md = kms.describe_key(KeyId=sym)["KeyMetadata"]
check(md.get("KeyState") == "Enabled" and md.get("Enabled") is True, "EnableKey → KeyState Enabled", md)
check(kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"before disable",
      "ciphertext from before DisableKey decrypts after EnableKey")

# --- ScheduleKeyDeletion / CancelKeyDeletion -----------------------------------------------------
doomed = create_key(kms, description="compat deletion")["KeyId"]
ct = kms.encrypt(KeyId=doomed, Plaintext=b"doomed")["CiphertextBlob"]
for days in (6, 31, 0, 366):
    expect_error("ValidationException",
                 lambda d=days: novalidate.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=d),
                 f"ScheduleKeyDeletion PendingWindowInDays {days} → ValidationException")
check(kms.describe_key(KeyId=doomed)["KeyMetadata"]["KeyState"] == "Enabled",
      "refused ScheduleKeyDeletion leaves the key Enabled")
for days in (7, 30):
    before = now()
    r = kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=days)
    check_arn(r["KeyId"], doomed, f"ScheduleKeyDeletion {days} days")
    check(r.get("KeyState") == "PendingDeletion", f"ScheduleKeyDeletion {days}: KeyState PendingDeletion", r)
    check(r.get("PendingWindowInDays") == days, f"ScheduleKeyDeletion {days}: PendingWindowInDays", r)
    delta = (r["DeletionDate"] - before).total_seconds() / 86400
    check(days - 0.1 < delta < days + 1.1, f"ScheduleKeyDeletion {days}: DeletionDate ≈ now + {days} days",
          r["DeletionDate"])
    md = kms.describe_key(KeyId=doomed)["KeyMetadata"]
    check(md.get("KeyState") == "PendingDeletion" and md.get("Enabled") is False,
          f"ScheduleKeyDeletion {days}: DescribeKey shows PendingDeletion", md)
    check("DeletionDate" in md, f"ScheduleKeyDeletion {days}: DescribeKey shows the DeletionDate", md)
    expect_error("KMSInvalidStateException", lambda: kms.encrypt(KeyId=doomed, Plaintext=b"x"),
                 "Encrypt with a key pending deletion → KMSInvalidStateException")
    expect_error("KMSInvalidStateException", lambda: kms.decrypt(CiphertextBlob=ct),
                 "Decrypt with a key pending deletion → KMSInvalidStateException")
    expect_error("KMSInvalidStateException", lambda: kms.enable_key(KeyId=doomed),
                 "EnableKey of a key pending deletion → KMSInvalidStateException")
    expect_error("KMSInvalidStateException",
                 lambda: kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=days),
                 "ScheduleKeyDeletion of a key already pending deletion → KMSInvalidStateException")
    r = kms.cancel_key_deletion(KeyId=doomed)
    check_arn(r["KeyId"], doomed, "CancelKeyDeletion")
    md = kms.describe_key(KeyId=doomed)["KeyMetadata"]
    check(md.get("KeyState") == "Disabled" and md.get("Enabled") is False,
          "CancelKeyDeletion → KeyState Disabled (as AWS)", md)
    check("DeletionDate" not in md, "CancelKeyDeletion clears the DeletionDate", md)
    kms.enable_key(KeyId=doomed)
check(kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"doomed", "a cancelled deletion keeps the key usable")
r = kms.schedule_key_deletion(KeyId=doomed)
check(r.get("PendingWindowInDays") == 30, "ScheduleKeyDeletion default window is 30 days", r)
expect_error("KMSInvalidStateException", lambda: kms.cancel_key_deletion(KeyId=sym),
             "CancelKeyDeletion of a key not pending deletion → KMSInvalidStateException")

# --- Aliases ----------------------------------------------------------------------------------
other_key = create_key(kms, description="compat alias target 2")["KeyId"]
a1, a2 = f"alias/{unique('compat-a')}", f"alias/{unique('compat-b')}"
kms.create_alias(AliasName=a1, TargetKeyId=sym)
kms.create_alias(AliasName=a2, TargetKeyId=key_arn(sym))
expect_error("AlreadyExistsException", lambda: kms.create_alias(AliasName=a1, TargetKeyId=other_key),
             "CreateAlias of an existing alias → AlreadyExistsException")
for bad in ("alias/aws/compat", "not-an-alias", "alias/", "alias/has space"):
    expect_error(("InvalidAliasNameException", "NotAuthorizedException", "ValidationException"),
                 lambda b=bad: novalidate.create_alias(AliasName=b, TargetKeyId=sym),
                 f"CreateAlias {bad!r} refused")
expect_error("NotFoundException", lambda: kms.create_alias(AliasName=f"alias/{unique('x')}", TargetKeyId=missing),
             "CreateAlias to a missing key → NotFoundException")
expect_error(("ValidationException", "NotFoundException"),
             lambda: kms.create_alias(AliasName=f"alias/{unique('x')}", TargetKeyId=a1),
             "CreateAlias whose target is an alias is refused")

aliases = kms.list_aliases(KeyId=sym, Limit=100)["Aliases"]
names = {a["AliasName"]: a for a in aliases}
check({a1, a2, alias} <= set(names), "ListAliases KeyId= lists the key's aliases", sorted(names))
for name in (a1, a2):
    check(names[name]["TargetKeyId"] == sym, f"ListAliases {name}: TargetKeyId is the key id", names[name])
    check(names[name]["AliasArn"] == alias_arn(name), f"ListAliases {name}: AliasArn", names[name])
seen, marker, pages = [], None, 0
while True:
    args = {"Limit": 1}
    if marker:
        args["Marker"] = marker
    page = kms.list_aliases(**args)
    pages += 1
    seen += [a["AliasName"] for a in page["Aliases"]]
    if not page.get("Truncated"):
        break
    marker = page["NextMarker"]
    check(pages < 500, "ListAliases paging terminates")
check({a1, a2, alias} <= set(seen) and len(seen) == len(set(seen)), "ListAliases Limit 1 pages through all")

expect_error("ValidationException",
             lambda: kms.update_alias(AliasName=a1, TargetKeyId=created[("RSA_2048", "SIGN_VERIFY")]),
             "UpdateAlias to a key of another type and usage → ValidationException")
kms.update_alias(AliasName=a1, TargetKeyId=other_key)
check(kms.describe_key(KeyId=a1)["KeyMetadata"]["KeyId"] == other_key, "UpdateAlias retargets the alias")
entry = {a["AliasName"]: a for a in kms.list_aliases(KeyId=other_key)["Aliases"]}.get(a1)
check(entry is not None and entry.get("TargetKeyId") == other_key, "ListAliases shows the new target", entry)
expect_error("NotFoundException", lambda: kms.update_alias(AliasName=f"alias/{unique('none')}",
                                                           TargetKeyId=other_key),
             "UpdateAlias of a missing alias → NotFoundException")
ct = kms.encrypt(KeyId=a1, Plaintext=b"through alias")
check(ct.get("KeyId") == key_arn(other_key), "Encrypt through an alias reports the target key's ARN", ct["KeyId"])
kms.delete_alias(AliasName=a1)
expect_error("NotFoundException", lambda: kms.describe_key(KeyId=a1), "DeleteAlias: the alias is gone")
check(kms.describe_key(KeyId=other_key)["KeyMetadata"]["KeyState"] == "Enabled",
      "DeleteAlias leaves the key alone")
expect_error("NotFoundException", lambda: kms.delete_alias(AliasName=a1), "DeleteAlias twice → NotFoundException")
kms.create_alias(AliasName=a1, TargetKeyId=sym)
check(kms.describe_key(KeyId=a1)["KeyMetadata"]["KeyId"] == sym, "a deleted alias name can be created again")

# --- Tags -------------------------------------------------------------------------------------
tagged = create_key(kms, description="compat tags", tags={"team": "kms", "env": "ci"})["KeyId"]


def tags_of(key):
    out, marker = {}, None
    while True:
        args = {"KeyId": key, "Limit": 1}
        if marker:
            args["Marker"] = marker
        page = kms.list_resource_tags(**args)
        for t in page["Tags"]:
            check(t["TagKey"] not in out, f"ListResourceTags: {t['TagKey']} listed once")
            out[t["TagKey"]] = t["TagValue"]
        if not page.get("Truncated"):
            return out
        marker = page["NextMarker"]


check(tags_of(tagged) == {"team": "kms", "env": "ci"}, "CreateKey Tags show in ListResourceTags (paged)")
kms.tag_resource(KeyId=tagged, Tags=[{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "owner", "TagValue": "x"}])
check(tags_of(tagged) == {"team": "kms", "env": "prod", "owner": "x"}, "TagResource adds and overwrites")
kms.untag_resource(KeyId=tagged, TagKeys=["team", "not-there"])
check(tags_of(tagged) == {"env": "prod", "owner": "x"}, "UntagResource removes (an absent key is ignored)")
kms.tag_resource(KeyId=key_arn(tagged), Tags=[{"TagKey": "arn", "TagValue": ""}])
check(tags_of(tagged).get("arn") == "", "TagResource by ARN, empty value allowed")
expect_error("TagException", lambda: kms.tag_resource(KeyId=tagged, Tags=[{"TagKey": "aws:reserved",
                                                                            "TagValue": "x"}]),
             "TagResource with an aws: tag key → TagException")
expect_error("NotFoundException", lambda: kms.list_resource_tags(KeyId=missing),
             "ListResourceTags of a missing key → NotFoundException")

# --- Nothing above was a 5xx; a final listing still works --------------------------------------
try:
    kms.list_keys(Limit=1)
except ClientError as e:  # pragma: no cover - reported with context
    raise AssertionError(f"ListKeys after the run failed: {e.response}")
done("kms_boto3_keys")
