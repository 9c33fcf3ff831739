"""boto3 against Arca's AWS KMS API: cryptographic operations. Encrypt/Decrypt (KeyId optional for symmetric
ciphertext, encryption context bound unambiguously, tampering and wrong keys refused, the 4096-byte limit),
ReEncrypt, GenerateDataKey(WithoutPlaintext) with the data key used locally (AES-GCM in `cryptography`),
GenerateDataKeyPair(WithoutPlaintext) with the private key loaded as PKCS#8, GenerateRandom, RSA OAEP with the
GetPublicKey key used locally, Sign/Verify for every signing spec and algorithm in RAW and DIGEST with Arca's
signatures verified locally, GenerateMac/VerifyMac for every HMAC spec, and wrong key usage / invalid spec."""

import hashlib
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kms_common import (ClientError, blob_key_and_version, check, client, create_key, done, error_code, expect_error,
                        key_arn, unique)

kms = client()
novalidate = client(validate=False)

# --- Encrypt / Decrypt -------------------------------------------------------------------------
sym = create_key(kms, description="compat crypto")["KeyId"]
sym2 = create_key(kms, description="compat crypto 2")["KeyId"]
alias = f"alias/{unique('compat-crypto')}"
kms.create_alias(AliasName=alias, TargetKeyId=sym)

for n in (1, 16, 1000, 4096):
    pt = os.urandom(n)
    r = kms.encrypt(KeyId=sym, Plaintext=pt)
    check(r.get("KeyId") == key_arn(sym), f"Encrypt {n} bytes: KeyId is the key ARN", r["KeyId"])
    check(r.get("EncryptionAlgorithm") == "SYMMETRIC_DEFAULT", f"Encrypt {n} bytes: EncryptionAlgorithm", r)
    blob = r["CiphertextBlob"]
    if n >= 16:
        check(pt not in blob, f"Encrypt {n} bytes: the ciphertext does not contain the plaintext")
    d = kms.decrypt(CiphertextBlob=blob)
    check(d.get("Plaintext") == pt, f"Decrypt {n} bytes without KeyId round-trips")
    check(d.get("KeyId") == key_arn(sym), f"Decrypt {n} bytes: KeyId is the key ARN", d["KeyId"])
    check(d.get("EncryptionAlgorithm") == "SYMMETRIC_DEFAULT", f"Decrypt {n} bytes: EncryptionAlgorithm", d)
    for ref, how in [(sym, "key id"), (key_arn(sym), "key ARN"), (alias, "alias")]:
        check(kms.decrypt(CiphertextBlob=blob, KeyId=ref)["Plaintext"] == pt,
              f"Decrypt {n} bytes with KeyId as {how}")
key_uuid, _ = blob_key_and_version(blob)
check(key_uuid == sym, "the ciphertext blob names the key that sealed it (CRYPTO.md header)", key_uuid)
a, b = kms.encrypt(KeyId=sym, Plaintext=b"same")["CiphertextBlob"], kms.encrypt(KeyId=sym, Plaintext=b"same")["CiphertextBlob"]
check(a != b, "two encryptions of the same plaintext differ (random salt and nonce)")
expect_error("ValidationException", lambda: kms.encrypt(KeyId=sym, Plaintext=os.urandom(4097)),
             "Encrypt of 4097 bytes → ValidationException")
expect_error("ValidationException", lambda: novalidate.encrypt(KeyId=sym, Plaintext=b""),
             "Encrypt of 0 bytes → ValidationException")
expect_error("IncorrectKeyException", lambda: kms.decrypt(CiphertextBlob=blob, KeyId=sym2),
             "Decrypt with a mismatched KeyId → IncorrectKeyException")
expect_error("NotFoundException", lambda: kms.encrypt(KeyId="00000000-0000-4000-8000-000000000000",
                                                      Plaintext=b"x"),
             "Encrypt with a missing key → NotFoundException")

# Encryption context.
ctx = {"purpose": "compat", "tenant": "t1"}
blob = kms.encrypt(KeyId=sym, Plaintext=b"with context", EncryptionContext=ctx)["CiphertextBlob"]
check(kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"] == b"with context",
      "Decrypt with the same EncryptionContext")
check(kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(list(ctx.items()))))["Plaintext"]
      == b"with context", "EncryptionContext order does not matter")
for wrong, how in [({}, "no context"), ({"purpose": "compat"}, "a subset"),
                   ({**ctx, "extra": "1"}, "a superset"), ({"purpose": "compat", "tenant": "t2"}, "another value"),
                   ({"Purpose": "compat", "tenant": "t1"}, "another key case")]:
    expect_error("InvalidCiphertextException",
                 lambda w=wrong: kms.decrypt(CiphertextBlob=blob, EncryptionContext=w),
                 f"Decrypt with {how} as context → InvalidCiphertextException")
plain = kms.encrypt(KeyId=sym, Plaintext=b"no context")["CiphertextBlob"]
expect_error("InvalidCiphertextException",
             lambda: kms.decrypt(CiphertextBlob=plain, EncryptionContext={"a": "b"}),
             "Decrypt of context-free ciphertext with a context → InvalidCiphertextException")
check(kms.decrypt(CiphertextBlob=plain, EncryptionContext={})["Plaintext"] == b"no context",
      "an empty EncryptionContext equals an absent one")
ab_c = kms.encrypt(KeyId=sym, Plaintext=b"ab=c", EncryptionContext={"ab": "c"})["CiphertextBlob"]
a_bc = kms.encrypt(KeyId=sym, Plaintext=b"a=bc", EncryptionContext={"a": "bc"})["CiphertextBlob"]
expect_error("InvalidCiphertextException",
             lambda: kms.decrypt(CiphertextBlob=ab_c, EncryptionContext={"a": "bc"}),
             'context {"ab":"c"} is not {"a":"bc"}')
expect_error("InvalidCiphertextException",
             lambda: kms.decrypt(CiphertextBlob=a_bc, EncryptionContext={"ab": "c"}),
             'context {"a":"bc"} is not {"ab":"c"}')
two = kms.encrypt(KeyId=sym, Plaintext=b"two", EncryptionContext={"a": "b", "c": "d"})["CiphertextBlob"]
expect_error("InvalidCiphertextException",
             lambda: kms.decrypt(CiphertextBlob=two, EncryptionContext={"a": "b\u0000c", "": "d"}),
             "context pairs cannot be shifted across a separator")
uni = {"clé": "värde ✓"}
u = kms.encrypt(KeyId=sym, Plaintext=b"unicode", EncryptionContext=uni)["CiphertextBlob"]
check(kms.decrypt(CiphertextBlob=u, EncryptionContext=uni)["Plaintext"] == b"unicode", "non-ASCII context")

# Tampering.
blob = kms.encrypt(KeyId=sym, Plaintext=b"tamper me please")["CiphertextBlob"]
for pos, how in [(len(blob) - 1, "last tag byte"), (len(blob) - 20, "ciphertext byte"),
                 (40, "salt byte"), (60, "nonce byte"), (19, "key version byte")]:
    bad = bytearray(blob)
    bad[pos] ^= 0x01
    expect_error("InvalidCiphertextException", lambda t=bytes(bad): kms.decrypt(CiphertextBlob=t),
                 f"Decrypt with a flipped {how} → InvalidCiphertextException")
expect_error("InvalidCiphertextException", lambda: kms.decrypt(CiphertextBlob=blob[:30]),
             "Decrypt of a truncated blob → InvalidCiphertextException")
expect_error("InvalidCiphertextException", lambda: kms.decrypt(CiphertextBlob=b"\x00" + os.urandom(90)),
             "Decrypt of garbage → InvalidCiphertextException")
expect_error("InvalidCiphertextException", lambda: kms.decrypt(CiphertextBlob=blob + b"\x00"),
             "Decrypt with a byte appended → InvalidCiphertextException")

# --- ReEncrypt ---------------------------------------------------------------------------------
src_ctx, dst_ctx = {"stage": "src"}, {"stage": "dst"}
blob = kms.encrypt(KeyId=sym, Plaintext=b"move me", EncryptionContext=src_ctx)["CiphertextBlob"]
r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=src_ctx, DestinationKeyId=sym2,
                   DestinationEncryptionContext=dst_ctx)
check(r.get("SourceKeyId") == key_arn(sym), "ReEncrypt: SourceKeyId is the source key ARN", r.get("SourceKeyId"))
check(r.get("KeyId") == key_arn(sym2), "ReEncrypt: KeyId is the destination key ARN", r.get("KeyId"))
check(blob_key_and_version(r["CiphertextBlob"])[0] == sym2, "ReEncrypt: the new blob names the destination key")
check(kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=dst_ctx)["Plaintext"] == b"move me",
      "ReEncrypt output decrypts under the destination context")
expect_error("InvalidCiphertextException",
             lambda: kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=src_ctx),
             "ReEncrypt output is bound to the destination context")
expect_error("InvalidCiphertextException",
             lambda: kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=sym2),
             "ReEncrypt with the wrong source context → InvalidCiphertextException")
expect_error("IncorrectKeyException",
             lambda: kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=src_ctx, SourceKeyId=sym2,
                                    DestinationKeyId=sym),
             "ReEncrypt with a mismatched SourceKeyId → IncorrectKeyException")
r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=src_ctx, SourceKeyId=alias,
                   DestinationKeyId=alias)
check(kms.decrypt(CiphertextBlob=r["CiphertextBlob"])["Plaintext"] == b"move me",
      "ReEncrypt to the same key through an alias, context dropped")

# --- GenerateDataKey ---------------------------------------------------------------------------
ctx = {"file": "compat.bin"}
for args, size in [({"KeySpec": "AES_256"}, 32), ({"KeySpec": "AES_128"}, 16), ({"NumberOfBytes": 64}, 64),
                   ({"NumberOfBytes": 1}, 1), ({"NumberOfBytes": 1024}, 1024)]:
    what = f"GenerateDataKey {args}"
    r = kms.generate_data_key(KeyId=sym, EncryptionContext=ctx, **args)
    check(len(r["Plaintext"]) == size, f"{what}: {size}-byte plaintext key", len(r["Plaintext"]))
    check(r.get("KeyId") == key_arn(sym), f"{what}: KeyId is the key ARN", r["KeyId"])
    check(kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == r["Plaintext"],
          f"{what}: CiphertextBlob decrypts to the plaintext key")
r = kms.generate_data_key(KeyId=alias, KeySpec="AES_256", EncryptionContext=ctx)
data_key, wrapped = r["Plaintext"], r["CiphertextBlob"]
nonce, message = os.urandom(12), b"a file encrypted locally with the data key"
sealed = AESGCM(data_key).encrypt(nonce, message, b"aad")
unwrapped = kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=ctx)["Plaintext"]
check(AESGCM(unwrapped).decrypt(nonce, sealed, b"aad") == message,
      "data key: AES-GCM locally, then Decrypt of CiphertextBlob through KMS opens it")
expect_error("InvalidCiphertextException", lambda: kms.decrypt(CiphertextBlob=wrapped),
             "data key ciphertext needs its context")
expect_error("ValidationException", lambda: kms.generate_data_key(KeyId=sym),
             "GenerateDataKey without KeySpec or NumberOfBytes → ValidationException")
expect_error("ValidationException", lambda: kms.generate_data_key(KeyId=sym, KeySpec="AES_256", NumberOfBytes=32),
             "GenerateDataKey with both KeySpec and NumberOfBytes → ValidationException")
expect_error("ValidationException", lambda: kms.generate_data_key(KeyId=sym, NumberOfBytes=1025),
             "GenerateDataKey NumberOfBytes 1025 → ValidationException")
expect_error("ValidationException", lambda: kms.generate_data_key(KeyId=sym, KeySpec="AES_512"),
             "GenerateDataKey KeySpec AES_512 → ValidationException")
r = kms.generate_data_key_without_plaintext(KeyId=sym, KeySpec="AES_256", EncryptionContext=ctx)
check("Plaintext" not in r, "GenerateDataKeyWithoutPlaintext returns no plaintext", sorted(r))
check(r.get("KeyId") == key_arn(sym), "GenerateDataKeyWithoutPlaintext: KeyId is the key ARN", r["KeyId"])
check(len(kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"]) == 32,
      "GenerateDataKeyWithoutPlaintext: the ciphertext decrypts to a 32-byte key")

# --- GenerateDataKeyPair ------------------------------------------------------------------------


def public_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


for spec in ("RSA_2048", "ECC_NIST_P256"):
    what = f"GenerateDataKeyPair {spec}"
    r = kms.generate_data_key_pair(KeyId=sym, KeyPairSpec=spec, EncryptionContext=ctx)
    check(r.get("KeyPairSpec") == spec and r.get("KeyId") == key_arn(sym), f"{what}: KeyPairSpec and KeyId", r["KeyId"])
    priv = serialization.load_der_private_key(r["PrivateKeyPlaintext"], password=None)
    check(isinstance(priv, rsa.RSAPrivateKey if spec.startswith("RSA") else ec.EllipticCurvePrivateKey),
          f"{what}: PrivateKeyPlaintext is PKCS#8 DER of the right type", type(priv))
    if spec == "RSA_2048":
        check(priv.key_size == 2048, f"{what}: 2048-bit modulus", priv.key_size)
    else:
        check(isinstance(priv.curve, ec.SECP256R1), f"{what}: curve P-256", priv.curve.name)
    check(public_der(priv) == r["PublicKey"], f"{what}: PublicKey (SPKI DER) matches the private key")
    dec = kms.decrypt(CiphertextBlob=r["PrivateKeyCiphertextBlob"], EncryptionContext=ctx)["Plaintext"]
    check(dec == r["PrivateKeyPlaintext"], f"{what}: PrivateKeyCiphertextBlob decrypts to the private key")
    r = kms.generate_data_key_pair_without_plaintext(KeyId=sym, KeyPairSpec=spec, EncryptionContext=ctx)
    check("PrivateKeyPlaintext" not in r, f"{what}WithoutPlaintext: no private key in clear", sorted(r))
    dec = kms.decrypt(CiphertextBlob=r["PrivateKeyCiphertextBlob"], EncryptionContext=ctx)["Plaintext"]
    priv = serialization.load_der_private_key(dec, password=None)
    check(public_der(priv) == r["PublicKey"], f"{what}WithoutPlaintext: decrypted private key matches PublicKey")
expect_error("ValidationException", lambda: kms.generate_data_key_pair(KeyId=sym, KeyPairSpec="RSA_1024"),
             "GenerateDataKeyPair with an unknown KeyPairSpec → ValidationException")

# --- GenerateRandom -----------------------------------------------------------------------------
r1, r2 = kms.generate_random(NumberOfBytes=32)["Plaintext"], kms.generate_random(NumberOfBytes=32)["Plaintext"]
check(len(r1) == 32 and len(r2) == 32 and r1 != r2, "GenerateRandom 32 bytes, twice different")
check(len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024, "GenerateRandom 1024 bytes")
expect_error("ValidationException", lambda: kms.generate_random(NumberOfBytes=1025),
             "GenerateRandom 1025 bytes → ValidationException")
expect_error("ValidationException", lambda: novalidate.generate_random(NumberOfBytes=0),
             "GenerateRandom 0 bytes → ValidationException")

# --- RSA OAEP ------------------------------------------------------------------------------------
OAEP = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}
for spec in ("RSA_2048", "RSA_3072", "RSA_4096"):
    key = create_key(kms, spec, "ENCRYPT_DECRYPT")["KeyId"]
    pk = kms.get_public_key(KeyId=key)
    check(pk.get("KeySpec") == spec and pk.get("KeyUsage") == "ENCRYPT_DECRYPT", f"GetPublicKey {spec}: spec and usage", pk)
    check(sorted(pk["EncryptionAlgorithms"]) == sorted(OAEP), f"GetPublicKey {spec}: EncryptionAlgorithms", pk)
    pub = serialization.load_der_public_key(pk["PublicKey"])
    check(isinstance(pub, rsa.RSAPublicKey) and pub.key_size == int(spec[4:]),
          f"GetPublicKey {spec}: an RSA SPKI of the right size")
    for alg, h in OAEP.items():
        pt = os.urandom(100)
        local = pub.encrypt(pt, padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None))
        d = kms.decrypt(CiphertextBlob=local, KeyId=key, EncryptionAlgorithm=alg)
        check(d.get("Plaintext") == pt and d.get("EncryptionAlgorithm") == alg,
              f"{spec} {alg}: encrypted locally with the public key, decrypted by KMS")
        r = kms.encrypt(KeyId=key, Plaintext=pt, EncryptionAlgorithm=alg)
        check(r.get("EncryptionAlgorithm") == alg and len(r["CiphertextBlob"]) == int(spec[4:]) // 8,
              f"{spec} {alg}: KMS Encrypt returns a modulus-sized ciphertext")
        check(kms.decrypt(CiphertextBlob=r["CiphertextBlob"], KeyId=key, EncryptionAlgorithm=alg)["Plaintext"] == pt,
              f"{spec} {alg}: KMS Encrypt then Decrypt")
        other = "RSAES_OAEP_SHA_256" if alg == "RSAES_OAEP_SHA_1" else "RSAES_OAEP_SHA_1"
        expect_error("InvalidCiphertextException",
                     lambda c=local, o=other: kms.decrypt(CiphertextBlob=c, KeyId=key, EncryptionAlgorithm=o),
                     f"{spec}: {alg} ciphertext with {other} → InvalidCiphertextException")
        bad = bytearray(local)
        bad[10] ^= 0x80
        expect_error("InvalidCiphertextException",
                     lambda c=bytes(bad), a=alg: kms.decrypt(CiphertextBlob=c, KeyId=key, EncryptionAlgorithm=a),
                     f"{spec} {alg}: a tampered ciphertext → InvalidCiphertextException")
    if spec == "RSA_2048":
        rsa2048 = key
        expect_error("ValidationException",
                     lambda: kms.encrypt(KeyId=key, Plaintext=os.urandom(191), EncryptionAlgorithm="RSAES_OAEP_SHA_256"),
                     "RSA_2048 OAEP SHA-256: 191 bytes is over the limit (190) → ValidationException")
        expect_error("InvalidKeyUsageException",
                     lambda: kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionAlgorithm="SYMMETRIC_DEFAULT"),
                     "RSA key with SYMMETRIC_DEFAULT → InvalidKeyUsageException")
expect_error("InvalidKeyUsageException",
             lambda: kms.encrypt(KeyId=sym, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256"),
             "symmetric key with RSAES_OAEP_SHA_256 → InvalidKeyUsageException")
expect_error("InvalidKeyUsageException", lambda: kms.generate_data_key(KeyId=rsa2048, KeySpec="AES_256"),
             "GenerateDataKey with an RSA key → InvalidKeyUsageException")
expect_error(("UnsupportedOperationException", "InvalidKeyUsageException"), lambda: kms.get_public_key(KeyId=sym),
             "GetPublicKey of a symmetric key is refused")

# --- Sign / Verify ---------------------------------------------------------------------------------
HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
RSA_ALGS = ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"]
SIGNING = [(s, a) for s in ("RSA_2048", "RSA_3072", "RSA_4096") for a in RSA_ALGS] + [
    ("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"), ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"), ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
    ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512")]
CURVES = {"ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1, "ECC_NIST_P521": ec.SECP521R1,
          "ECC_SECG_P256K1": ec.SECP256K1}
sign_keys = {}


def local_verify(pub, alg, mtype, message, sig):
    """Verify Arca's signature with `cryptography`; raises InvalidSignature when it does not verify."""
    h = HASH[alg[-3:]]()
    data, algo = (message, h) if mtype == "RAW" else (message, utils.Prehashed(h))
    if alg.startswith("RSASSA_PSS"):
        pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), algo)
    elif alg.startswith("RSASSA_PKCS1"):
        pub.verify(sig, data, padding.PKCS1v15(), algo)
    else:
        pub.verify(sig, data, ec.ECDSA(algo))


def verifies(fn):
    try:
        fn()
        return True
    except InvalidSignature:
        return False


message = b"the message Arca signs, " + os.urandom(64)
for spec, alg in SIGNING:
    if spec not in sign_keys:
        key = create_key(kms, spec, "SIGN_VERIFY")["KeyId"]
        pk = kms.get_public_key(KeyId=key)
        check(pk.get("KeyUsage") == "SIGN_VERIFY" and pk.get("KeySpec") == spec, f"GetPublicKey {spec}", pk)
        check(pk.get("KeyId") == key_arn(key), f"GetPublicKey {spec}: KeyId is the key ARN", pk["KeyId"])
        pub = serialization.load_der_public_key(pk["PublicKey"])
        if spec in CURVES:
            check(isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, CURVES[spec]),
                  f"GetPublicKey {spec}: SPKI on the right curve")
        elif spec == "ECC_NIST_EDWARDS25519":
            check(isinstance(pub, ed25519.Ed25519PublicKey), "GetPublicKey Ed25519: an Ed25519 SPKI")
        sign_keys[spec] = (key, pub)
    key, pub = sign_keys[spec]
    if alg == "ED25519_SHA_512":
        mtypes = ["RAW"]
    elif alg == "ED25519_PH_SHA_512":
        mtypes = ["DIGEST"]
    else:
        mtypes = ["RAW", "DIGEST"]
    for mtype in mtypes:
        what = f"Sign {spec} {alg} {mtype}"
        if mtype == "RAW":
            msg = message
        else:
            msg = hashlib.new("sha" + alg[-3:], message).digest()
        try:
            r = kms.sign(KeyId=key, Message=msg, MessageType=mtype, SigningAlgorithm=alg)
        except ClientError as e:
            check(False, f"{what}: Sign succeeds", f"{error_code(e)}: {e.response.get('Error')}")
            continue
        check(r.get("SigningAlgorithm") == alg and r.get("KeyId") == key_arn(key), f"{what}: algorithm and KeyId", r["KeyId"])
        sig = r["Signature"]
        if alg == "ED25519_SHA_512":
            check(verifies(lambda: pub.verify(sig, msg)), f"{what}: Ed25519 signature verifies in cryptography")
        elif alg != "ED25519_PH_SHA_512":  # cryptography has no Ed25519ph; KMS Verify below covers it
            check(verifies(lambda: local_verify(pub, alg, mtype, msg, sig)),
                  f"{what}: signature verifies in cryptography with the GetPublicKey key")
            if mtype == "DIGEST":
                check(verifies(lambda: local_verify(pub, alg, "RAW", message, sig)),
                      f"{what}: a DIGEST signature verifies over the raw message")
        v = kms.verify(KeyId=key, Message=msg, MessageType=mtype, Signature=sig, SigningAlgorithm=alg)
        check(v.get("SignatureValid") is True and v.get("SigningAlgorithm") == alg, f"{what}: KMS Verify accepts it")
        bad = bytearray(sig)
        bad[len(bad) // 2] ^= 0x01
        expect_error("KMSInvalidSignatureException",
                     lambda b=bytes(bad), m=msg, t=mtype: kms.verify(KeyId=key, Message=m, MessageType=t,
                                                                     Signature=b, SigningAlgorithm=alg),
                     f"{what}: a flipped signature bit → KMSInvalidSignatureException")
        other = bytes(reversed(msg))
        expect_error("KMSInvalidSignatureException",
                     lambda m=other, t=mtype: kms.verify(KeyId=key, Message=m, MessageType=t, Signature=sig,
                                                         SigningAlgorithm=alg),
                     f"{what}: another message → KMSInvalidSignatureException")
    if alg in ("ECDSA_SHA_256", "RSASSA_PSS_SHA_256") and spec in ("ECC_NIST_P256", "RSA_2048"):
        expect_error("ValidationException",
                     lambda: kms.sign(KeyId=key, Message=b"\x00" * 31, MessageType="DIGEST", SigningAlgorithm=alg),
                     f"Sign {spec} DIGEST of the wrong length → ValidationException")
        expect_error("ValidationException",
                     lambda: kms.sign(KeyId=key, Message=os.urandom(4097), MessageType="RAW", SigningAlgorithm=alg),
                     f"Sign {spec} RAW message of 4097 bytes → ValidationException")
        expect_error("KMSInvalidSignatureException",
                     lambda: kms.verify(KeyId=key, Message=message, MessageType="RAW", Signature=b"\x30\x00",
                                        SigningAlgorithm=alg),
                     f"Verify {spec} with a malformed signature → KMSInvalidSignatureException")
# ED25519_PH_SHA_512 signs a SHA-512 DIGEST only (signed and verified above); RAW or a digest of another length is
# refused as AWS does.
ed = sign_keys["ECC_NIST_EDWARDS25519"][0]
expect_error("ValidationException",
             lambda: kms.sign(KeyId=ed, Message=message, MessageType="RAW", SigningAlgorithm="ED25519_PH_SHA_512"),
             "Sign ED25519_PH_SHA_512 with MessageType RAW → ValidationException (DIGEST only)")
expect_error("ValidationException",
             lambda: kms.sign(KeyId=ed, Message=hashlib.sha256(message).digest(), MessageType="DIGEST",
                              SigningAlgorithm="ED25519_PH_SHA_512"),
             "Sign ED25519_PH_SHA_512 with a 32-byte DIGEST → ValidationException")
expect_error("ValidationException",
             lambda: kms.sign(KeyId=ed, Message=hashlib.sha512(message).digest(), MessageType="DIGEST",
                              SigningAlgorithm="ED25519_SHA_512"),
             "Sign ED25519_SHA_512 with MessageType DIGEST → ValidationException (AWS: RAW only)")
p256 = sign_keys["ECC_NIST_P256"][0]
expect_error("InvalidKeyUsageException",
             lambda: kms.sign(KeyId=p256, Message=b"m", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_384"),
             "Sign P-256 with ECDSA_SHA_384 → InvalidKeyUsageException")
expect_error("InvalidKeyUsageException",
             lambda: kms.sign(KeyId=sign_keys["RSA_2048"][0], Message=b"m", MessageType="RAW",
                              SigningAlgorithm="ECDSA_SHA_256"),
             "Sign RSA with ECDSA_SHA_256 → InvalidKeyUsageException")
expect_error("ValidationException",
             lambda: kms.sign(KeyId=p256, Message=b"m", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_1"),
             "Sign with an unknown SigningAlgorithm → ValidationException")

# --- GenerateMac / VerifyMac ----------------------------------------------------------------------
MACS = {"HMAC_224": ("HMAC_SHA_224", 28), "HMAC_256": ("HMAC_SHA_256", 32), "HMAC_384": ("HMAC_SHA_384", 48),
        "HMAC_512": ("HMAC_SHA_512", 64)}
for spec, (alg, size) in MACS.items():
    key = create_key(kms, spec, "GENERATE_VERIFY_MAC")["KeyId"]
    msg = b"mac me " + os.urandom(16)
    r = kms.generate_mac(KeyId=key, Message=msg, MacAlgorithm=alg)
    mac = r["Mac"]
    check(len(mac) == size and r.get("MacAlgorithm") == alg and r.get("KeyId") == key_arn(key),
          f"GenerateMac {spec}: {size}-byte MAC, algorithm, KeyId", (len(mac), r["KeyId"]))
    check(kms.generate_mac(KeyId=key, Message=msg, MacAlgorithm=alg)["Mac"] == mac,
          f"GenerateMac {spec} is deterministic")
    v = kms.verify_mac(KeyId=key, Message=msg, MacAlgorithm=alg, Mac=mac)
    check(v.get("MacValid") is True and v.get("MacAlgorithm") == alg, f"VerifyMac {spec} accepts its MAC", v)
    bad = bytearray(mac)
    bad[0] ^= 0x01
    expect_error("KMSInvalidMacException",
                 lambda b=bytes(bad): kms.verify_mac(KeyId=key, Message=msg, MacAlgorithm=alg, Mac=b),
                 f"VerifyMac {spec} with a flipped bit → KMSInvalidMacException")
    expect_error("KMSInvalidMacException",
                 lambda: kms.verify_mac(KeyId=key, Message=msg + b"!", MacAlgorithm=alg, Mac=mac),
                 f"VerifyMac {spec} of another message → KMSInvalidMacException")
    expect_error("KMSInvalidMacException",
                 lambda: kms.verify_mac(KeyId=key, Message=msg, MacAlgorithm=alg, Mac=mac[:-1]),
                 f"VerifyMac {spec} with a truncated MAC → KMSInvalidMacException")
    wrong = "HMAC_SHA_512" if alg != "HMAC_SHA_512" else "HMAC_SHA_256"
    expect_error("InvalidKeyUsageException",
                 lambda w=wrong: kms.generate_mac(KeyId=key, Message=msg, MacAlgorithm=w),
                 f"GenerateMac {spec} with {wrong} → InvalidKeyUsageException")
    hmac_key = key
other_mac = create_key(kms, "HMAC_256", "GENERATE_VERIFY_MAC")["KeyId"]
m = kms.generate_mac(KeyId=other_mac, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
other_mac2 = create_key(kms, "HMAC_256", "GENERATE_VERIFY_MAC")["KeyId"]
expect_error("KMSInvalidMacException",
             lambda: kms.verify_mac(KeyId=other_mac2, Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=m),
             "VerifyMac with another key's MAC → KMSInvalidMacException")

# --- Wrong key usage ------------------------------------------------------------------------------
sign_key = sign_keys["ECC_NIST_P256"][0]
rsa_sign = sign_keys["RSA_2048"][0]
for fn, how in [
    (lambda: kms.encrypt(KeyId=sign_key, Plaintext=b"x"), "Encrypt with a SIGN_VERIFY key"),
    (lambda: kms.encrypt(KeyId=rsa_sign, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256"),
     "Encrypt with an RSA SIGN_VERIFY key"),
    (lambda: kms.encrypt(KeyId=hmac_key, Plaintext=b"x"), "Encrypt with an HMAC key"),
    (lambda: kms.sign(KeyId=sym, Message=b"m", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"),
     "Sign with a symmetric ENCRYPT_DECRYPT key"),
    (lambda: kms.sign(KeyId=rsa2048, Message=b"m", MessageType="RAW", SigningAlgorithm="RSASSA_PSS_SHA_256"),
     "Sign with an RSA ENCRYPT_DECRYPT key"),
    (lambda: kms.verify(KeyId=sym, Message=b"m", MessageType="RAW", Signature=b"s" * 64,
                        SigningAlgorithm="ECDSA_SHA_256"), "Verify with a symmetric key"),
    (lambda: kms.generate_mac(KeyId=sym, Message=b"m", MacAlgorithm="HMAC_SHA_256"), "GenerateMac with a symmetric key"),
    (lambda: kms.generate_mac(KeyId=sign_key, Message=b"m", MacAlgorithm="HMAC_SHA_256"),
     "GenerateMac with a signing key"),
    (lambda: kms.generate_data_key(KeyId=hmac_key, KeySpec="AES_256"), "GenerateDataKey with an HMAC key"),
    (lambda: kms.generate_data_key_pair(KeyId=sign_key, KeyPairSpec="ECC_NIST_P256"),
     "GenerateDataKeyPair with a signing key"),
]:
    expect_error("InvalidKeyUsageException", fn, f"{how} → InvalidKeyUsageException")

# --- Invalid key spec -----------------------------------------------------------------------------
for spec, usage in [("RSA_1024", "ENCRYPT_DECRYPT"), ("ECC_NIST_P192", "SIGN_VERIFY"), ("HMAC_128", "GENERATE_VERIFY_MAC"),
                    ("AES_256", "ENCRYPT_DECRYPT"), ("", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "ENCRYPT_DECRYPT"),
                    ("HMAC_256", "ENCRYPT_DECRYPT"), ("RSA_2048", "GENERATE_VERIFY_MAC")]:
    expect_error("ValidationException", lambda s=spec, u=usage: novalidate.create_key(KeySpec=s, KeyUsage=u),
                 f"CreateKey {spec!r}/{usage} → ValidationException")
done("kms_boto3_crypto")
