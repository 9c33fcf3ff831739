//! A happy path per KMS operation group over real HTTP with SigV4: keys, Encrypt/Decrypt/ReEncrypt, data
//! keys and pairs, random, Sign/Verify/GetPublicKey, MACs, aliases, rotation, tags, enable/disable and
//! deletion scheduling — each answer in AWS's shape, and the refusals the service raises by AWS's names.

mod common;
mod kms_common;

use base64ct::{Base64, Encoding};
use kms_common::{Kms, json};

fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

fn unb64(v: &serde_json::Value) -> Vec<u8> {
    Base64::decode_vec(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn key_management() {
    let k = Kms::start().await;
    let r = k
        .call(
            "CreateKey",
            json!({"Description": "first", "Tags": [{"TagKey": "team", "TagValue": "a"}]}),
        )
        .await;
    assert_eq!(r.headers["content-type"], "application/x-amz-json-1.1");
    assert_eq!(r.headers["x-amzn-requestid"].len(), 36);
    assert!(!r.headers.contains_key("allow"));
    assert!(!r.headers.contains_key("openstack-api-version"));
    let m = &r.ok()["KeyMetadata"];
    let id = m["KeyId"].as_str().unwrap().to_owned();
    assert_eq!(m["AWSAccountId"], "p1");
    assert_eq!(m["Arn"], format!("arn:aws:kms:us-east-1:p1:key/{id}"));
    assert_eq!(m["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["CustomerMasterKeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(m["KeyState"], "Enabled");
    assert_eq!(m["Enabled"], true);
    assert_eq!(m["Origin"], "AWS_KMS");
    assert_eq!(m["KeyManager"], "CUSTOMER");
    assert_eq!(m["MultiRegion"], false);
    assert_eq!(m["EncryptionAlgorithms"], json!(["SYMMETRIC_DEFAULT"]));
    assert!(m["CreationDate"].is_f64() || m["CreationDate"].is_u64());
    assert!(m.get("SigningAlgorithms").is_none());

    let r = k.call("DescribeKey", json!({"KeyId": m["Arn"]})).await;
    assert_eq!(r.ok()["KeyMetadata"]["Description"], "first");
    k.call(
        "UpdateKeyDescription",
        json!({"KeyId": id, "Description": "second"}),
    )
    .await
    .ok();
    let r = k.call("DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(r.ok()["KeyMetadata"]["Description"], "second");

    let second = k.create_key(json!({})).await;
    let r = k.call("ListKeys", json!({"Limit": 1})).await;
    let page = r.ok();
    assert_eq!(page["Keys"].as_array().unwrap().len(), 1);
    assert_eq!(page["Truncated"], true);
    let r = k
        .call(
            "ListKeys",
            json!({"Limit": 1, "Marker": page["NextMarker"]}),
        )
        .await;
    assert_eq!(r.ok()["Keys"][0]["KeyId"], second);
    assert_eq!(r.ok()["Truncated"], false);
    assert!(
        r.ok()["Keys"][0]["KeyArn"]
            .as_str()
            .unwrap()
            .ends_with(&second)
    );

    // Disable / enable.
    k.call("DisableKey", json!({"KeyId": id})).await.ok();
    k.call("Encrypt", json!({"KeyId": id, "Plaintext": b64(b"x")}))
        .await
        .error("DisabledException");
    k.call("EnableKey", json!({"KeyId": id})).await.ok();
    k.call("Encrypt", json!({"KeyId": id, "Plaintext": b64(b"x")}))
        .await
        .ok();

    // Deletion scheduling.
    k.call(
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": 6}),
    )
    .await
    .error("ValidationException");
    let r = k
        .call(
            "ScheduleKeyDeletion",
            json!({"KeyId": id, "PendingWindowInDays": 7}),
        )
        .await;
    assert_eq!(r.ok()["KeyState"], "PendingDeletion");
    assert_eq!(r.ok()["PendingWindowInDays"], 7);
    assert!(r.ok()["DeletionDate"].is_number());
    assert!(
        r.ok()["KeyId"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:")
    );
    k.call("Encrypt", json!({"KeyId": id, "Plaintext": b64(b"x")}))
        .await
        .error("KMSInvalidStateException");
    let r = k.call("DescribeKey", json!({"KeyId": id})).await;
    assert!(r.ok()["KeyMetadata"]["DeletionDate"].is_number());
    k.call("CancelKeyDeletion", json!({"KeyId": id})).await.ok();
    let r = k.call("DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(r.ok()["KeyMetadata"]["KeyState"], "Disabled");

    // Unsupported creation options.
    k.call("CreateKey", json!({"Origin": "EXTERNAL"}))
        .await
        .error("UnsupportedOperationException");
    k.call(
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "ENCRYPT_DECRYPT"}),
    )
    .await
    .error("ValidationException");
}

#[tokio::test]
async fn encrypt_decrypt_reencrypt_data_keys_random() {
    let k = Kms::start().await;
    let a = k.create_key(json!({})).await;
    let b = k.create_key(json!({})).await;
    let ctx = json!({"purpose": "test", "ab": "c"});
    let r = k
        .call(
            "Encrypt",
            json!({"KeyId": a, "Plaintext": b64(b"hello"), "EncryptionContext": ctx}),
        )
        .await;
    let blob = r.ok()["CiphertextBlob"].clone();
    assert_eq!(r.ok()["KeyId"], format!("arn:aws:kms:us-east-1:p1:key/{a}"));
    assert_eq!(r.ok()["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");

    // Decrypt without KeyId; with the wrong context; with the wrong key; tampered.
    let r = k
        .call(
            "Decrypt",
            json!({"CiphertextBlob": blob, "EncryptionContext": ctx}),
        )
        .await;
    assert_eq!(unb64(&r.ok()["Plaintext"]), b"hello");
    assert_eq!(r.ok()["KeyId"], format!("arn:aws:kms:us-east-1:p1:key/{a}"));
    k.call(
        "Decrypt",
        json!({"CiphertextBlob": blob, "EncryptionContext": {"a": "bc", "purpose": "test"}}),
    )
    .await
    .error("InvalidCiphertextException");
    k.call(
        "Decrypt",
        json!({"CiphertextBlob": blob, "EncryptionContext": ctx, "KeyId": b}),
    )
    .await
    .error("IncorrectKeyException");
    let mut tampered = unb64(&blob);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    k.call(
        "Decrypt",
        json!({"CiphertextBlob": b64(&tampered), "EncryptionContext": ctx}),
    )
    .await
    .error("InvalidCiphertextException");

    // ReEncrypt to b.
    let r = k
        .call(
            "ReEncrypt",
            json!({"CiphertextBlob": blob, "SourceEncryptionContext": ctx, "DestinationKeyId": b}),
        )
        .await;
    assert!(r.ok()["SourceKeyId"].as_str().unwrap().ends_with(&a));
    assert!(r.ok()["KeyId"].as_str().unwrap().ends_with(&b));
    let r = k
        .call(
            "Decrypt",
            json!({"CiphertextBlob": r.ok()["CiphertextBlob"]}),
        )
        .await;
    assert_eq!(unb64(&r.ok()["Plaintext"]), b"hello");

    // Data keys.
    let r = k
        .call("GenerateDataKey", json!({"KeyId": a, "KeySpec": "AES_256"}))
        .await;
    let plain = unb64(&r.ok()["Plaintext"]);
    assert_eq!(plain.len(), 32);
    let r = k
        .call(
            "Decrypt",
            json!({"CiphertextBlob": r.ok()["CiphertextBlob"]}),
        )
        .await;
    assert_eq!(unb64(&r.ok()["Plaintext"]), plain);
    let r = k
        .call("GenerateDataKey", json!({"KeyId": a, "NumberOfBytes": 16}))
        .await;
    assert_eq!(unb64(&r.ok()["Plaintext"]).len(), 16);
    k.call(
        "GenerateDataKey",
        json!({"KeyId": a, "NumberOfBytes": 16, "KeySpec": "AES_128"}),
    )
    .await
    .error("ValidationException");
    k.call("GenerateDataKey", json!({"KeyId": a}))
        .await
        .error("ValidationException");
    let r = k
        .call(
            "GenerateDataKeyWithoutPlaintext",
            json!({"KeyId": a, "KeySpec": "AES_128"}),
        )
        .await;
    assert!(r.ok().get("Plaintext").is_none());
    assert!(r.ok()["CiphertextBlob"].is_string());

    let r = k
        .call(
            "GenerateDataKeyPair",
            json!({"KeyId": a, "KeyPairSpec": "ECC_NIST_P256"}),
        )
        .await;
    assert_eq!(r.ok()["KeyPairSpec"], "ECC_NIST_P256");
    let private = unb64(&r.ok()["PrivateKeyPlaintext"]);
    assert!(!unb64(&r.ok()["PublicKey"]).is_empty());
    let r = k
        .call(
            "Decrypt",
            json!({"CiphertextBlob": r.ok()["PrivateKeyCiphertextBlob"]}),
        )
        .await;
    assert_eq!(unb64(&r.ok()["Plaintext"]), private);
    let r = k
        .call(
            "GenerateDataKeyPairWithoutPlaintext",
            json!({"KeyId": a, "KeyPairSpec": "ECC_NIST_EDWARDS25519"}),
        )
        .await;
    assert!(r.ok().get("PrivateKeyPlaintext").is_none());
    k.call(
        "GenerateDataKeyPair",
        json!({"KeyId": a, "KeyPairSpec": "HMAC_256"}),
    )
    .await
    .error("ValidationException");

    // Random.
    let r = k.call("GenerateRandom", json!({"NumberOfBytes": 48})).await;
    assert_eq!(unb64(&r.ok()["Plaintext"]).len(), 48);

    // Plaintext over 4096 bytes.
    k.call(
        "Encrypt",
        json!({"KeyId": a, "Plaintext": b64(&[0u8; 4097])}),
    )
    .await
    .error("ValidationException");
}

#[tokio::test]
async fn signing_and_macs() {
    let k = Kms::start().await;
    let key = k
        .create_key(json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}))
        .await;
    let r = k.call("DescribeKey", json!({"KeyId": key})).await;
    assert_eq!(
        r.ok()["KeyMetadata"]["SigningAlgorithms"],
        json!(["ECDSA_SHA_256"])
    );
    let msg = b64(b"message");
    let r = k
        .call(
            "Sign",
            json!({"KeyId": key, "Message": msg, "SigningAlgorithm": "ECDSA_SHA_256"}),
        )
        .await;
    let signature = r.ok()["Signature"].clone();
    assert_eq!(r.ok()["SigningAlgorithm"], "ECDSA_SHA_256");
    let r = k
        .call(
            "Verify",
            json!({"KeyId": key, "Message": msg, "Signature": signature, "SigningAlgorithm": "ECDSA_SHA_256"}),
        )
        .await;
    assert_eq!(r.ok()["SignatureValid"], true);
    k.call(
        "Verify",
        json!({"KeyId": key, "Message": b64(b"other"), "Signature": signature, "SigningAlgorithm": "ECDSA_SHA_256"}),
    )
    .await
    .error("KMSInvalidSignatureException");
    // DIGEST message type.
    let digest = b64(&[7u8; 32]);
    let r = k
        .call(
            "Sign",
            json!({"KeyId": key, "Message": digest, "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256"}),
        )
        .await;
    r.ok();
    k.call(
        "Sign",
        json!({"KeyId": key, "Message": msg, "SigningAlgorithm": "RSASSA_PSS_SHA_256"}),
    )
    .await
    .error("InvalidKeyUsageException");
    k.call("Sign", json!({"KeyId": key, "Message": msg}))
        .await
        .error("ValidationException");
    let r = k.call("GetPublicKey", json!({"KeyId": key})).await;
    assert_eq!(r.ok()["KeySpec"], "ECC_NIST_P256");
    assert_eq!(r.ok()["KeyUsage"], "SIGN_VERIFY");
    assert_eq!(r.ok()["SigningAlgorithms"], json!(["ECDSA_SHA_256"]));
    assert!(unb64(&r.ok()["PublicKey"]).len() > 60);
    // Wrong usage for encryption.
    k.call("Encrypt", json!({"KeyId": key, "Plaintext": msg}))
        .await
        .error("InvalidKeyUsageException");

    let mac_key = k
        .create_key(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))
        .await;
    let r = k
        .call(
            "GenerateMac",
            json!({"KeyId": mac_key, "Message": msg, "MacAlgorithm": "HMAC_SHA_256"}),
        )
        .await;
    let mac = r.ok()["Mac"].clone();
    assert_eq!(unb64(&mac).len(), 32);
    let r = k
        .call(
            "VerifyMac",
            json!({"KeyId": mac_key, "Message": msg, "Mac": mac, "MacAlgorithm": "HMAC_SHA_256"}),
        )
        .await;
    assert_eq!(r.ok()["MacValid"], true);
    k.call(
        "VerifyMac",
        json!({"KeyId": mac_key, "Message": b64(b"x"), "Mac": mac, "MacAlgorithm": "HMAC_SHA_256"}),
    )
    .await
    .error("KMSInvalidMacException");
}

#[tokio::test]
async fn aliases_rotation_tags() {
    let k = Kms::start().await;
    let a = k.create_key(json!({})).await;
    let b = k.create_key(json!({})).await;
    k.call(
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": a}),
    )
    .await
    .ok();
    k.call(
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": b}),
    )
    .await
    .error("AlreadyExistsException");
    k.call(
        "CreateAlias",
        json!({"AliasName": "nope", "TargetKeyId": b}),
    )
    .await
    .error("InvalidAliasNameException");
    let r = k
        .call(
            "Encrypt",
            json!({"KeyId": "alias/app", "Plaintext": b64(b"v1")}),
        )
        .await;
    assert!(r.ok()["KeyId"].as_str().unwrap().ends_with(&a));
    let old_blob = r.ok()["CiphertextBlob"].clone();
    let r = k.call("ListAliases", json!({})).await;
    let alias = &r.ok()["Aliases"][0];
    assert_eq!(alias["AliasName"], "alias/app");
    assert_eq!(alias["AliasArn"], "arn:aws:kms:us-east-1:p1:alias/app");
    assert_eq!(alias["TargetKeyId"], a);
    assert!(alias["CreationDate"].is_number());
    k.call(
        "UpdateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": b}),
    )
    .await
    .ok();
    let r = k.call("ListAliases", json!({"KeyId": b})).await;
    assert_eq!(r.ok()["Aliases"][0]["AliasName"], "alias/app");
    k.call("DeleteAlias", json!({"AliasName": "alias/app"}))
        .await
        .ok();
    k.call("DescribeKey", json!({"KeyId": "alias/app"}))
        .await
        .error("NotFoundException");

    // Rotation.
    let r = k.call("GetKeyRotationStatus", json!({"KeyId": a})).await;
    assert_eq!(r.ok()["KeyRotationEnabled"], false);
    k.call(
        "EnableKeyRotation",
        json!({"KeyId": a, "RotationPeriodInDays": 89}),
    )
    .await
    .error("ValidationException");
    k.call(
        "EnableKeyRotation",
        json!({"KeyId": a, "RotationPeriodInDays": 180}),
    )
    .await
    .ok();
    let r = k.call("GetKeyRotationStatus", json!({"KeyId": a})).await;
    assert_eq!(r.ok()["KeyRotationEnabled"], true);
    assert_eq!(r.ok()["RotationPeriodInDays"], 180);
    assert!(r.ok()["NextRotationDate"].is_number());
    let r = k.call("RotateKeyOnDemand", json!({"KeyId": a})).await;
    assert!(r.ok()["KeyId"].as_str().unwrap().ends_with(&a));
    let r = k.call("ListKeyRotations", json!({"KeyId": a})).await;
    assert_eq!(r.ok()["Rotations"][0]["RotationType"], "ON_DEMAND");
    assert_eq!(r.ok()["Rotations"][0]["KeyId"], a);
    assert!(r.ok()["Rotations"][0]["RotationDate"].is_number());
    // Ciphertext from before the rotation still decrypts.
    let r = k.call("Decrypt", json!({"CiphertextBlob": old_blob})).await;
    assert_eq!(unb64(&r.ok()["Plaintext"]), b"v1");
    k.call("DisableKeyRotation", json!({"KeyId": a})).await.ok();
    let r = k.call("GetKeyRotationStatus", json!({"KeyId": a})).await;
    assert_eq!(r.ok()["KeyRotationEnabled"], false);

    // Tags.
    k.call(
        "TagResource",
        json!({"KeyId": a, "Tags": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "x"}]}),
    )
    .await
    .ok();
    let r = k.call("ListResourceTags", json!({"KeyId": a})).await;
    assert_eq!(
        r.ok()["Tags"],
        json!([{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "x"}])
    );
    assert_eq!(r.ok()["Truncated"], false);
    k.call("UntagResource", json!({"KeyId": a, "TagKeys": ["env"]}))
        .await
        .ok();
    let r = k.call("ListResourceTags", json!({"KeyId": a})).await;
    assert_eq!(r.ok()["Tags"], json!([{"TagKey": "team", "TagValue": "x"}]));
    k.call(
        "TagResource",
        json!({"KeyId": a, "Tags": [{"TagKey": "aws:x", "TagValue": "y"}]}),
    )
    .await
    .error("TagException");
}
