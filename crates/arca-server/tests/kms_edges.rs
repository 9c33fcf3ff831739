//! Client input at the edges of each operation never earns a 5xx: wrong digest lengths, oversize RSA
//! plaintexts, garbage ciphertexts and signatures, asymmetric keys where symmetric ones are needed, and the
//! unsupported `DryRun` and `GrantTokens` members.

mod common;
mod kms_common;

use base64ct::{Base64, Encoding};
use kms_common::{Kms, json};

fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

#[tokio::test]
async fn no_server_errors_for_client_input() {
    let k = Kms::start().await;
    let sym = k.create_key(json!({})).await;
    let ec = k
        .create_key(json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}))
        .await;
    let ed = k
        .create_key(json!({"KeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": "SIGN_VERIFY"}))
        .await;
    let rsa = k
        .create_key(json!({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"}))
        .await;
    let hmac = k
        .create_key(json!({"KeySpec": "HMAC_224", "KeyUsage": "GENERATE_VERIFY_MAC"}))
        .await;
    let cases = vec![
        (
            "Sign",
            json!({"KeyId": ec, "Message": b64(&[1; 5]), "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256"}),
        ),
        (
            "Sign",
            json!({"KeyId": ed, "Message": b64(&[1; 5]), "MessageType": "DIGEST", "SigningAlgorithm": "ED25519_SHA_512"}),
        ),
        (
            "Sign",
            json!({"KeyId": ed, "Message": b64(&[1; 5]), "SigningAlgorithm": "ECDSA_SHA_256"}),
        ),
        (
            "Verify",
            json!({"KeyId": ec, "Message": b64(b"m"), "Signature": b64(&[0; 3]), "SigningAlgorithm": "ECDSA_SHA_256"}),
        ),
        (
            "Verify",
            json!({"KeyId": ed, "Message": b64(b"m"), "Signature": b64(&[0; 64]), "SigningAlgorithm": "ED25519_SHA_512"}),
        ),
        (
            "Encrypt",
            json!({"KeyId": rsa, "Plaintext": b64(&[1; 300]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        ),
        ("Encrypt", json!({"KeyId": rsa, "Plaintext": b64(&[1; 3])})),
        (
            "Encrypt",
            json!({"KeyId": sym, "Plaintext": b64(&[1; 3]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
        ),
        (
            "Decrypt",
            json!({"KeyId": rsa, "CiphertextBlob": b64(&[1; 256]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        ),
        (
            "Decrypt",
            json!({"KeyId": rsa, "CiphertextBlob": b64(&[1; 7]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
        ),
        ("Decrypt", json!({"CiphertextBlob": b64(&[1; 7])})),
        ("Decrypt", json!({"CiphertextBlob": b64(&[1; 100])})),
        (
            "Decrypt",
            json!({"KeyId": ec, "CiphertextBlob": b64(&[1; 100])}),
        ),
        (
            "GenerateDataKey",
            json!({"KeyId": rsa, "KeySpec": "AES_256"}),
        ),
        (
            "GenerateDataKeyPair",
            json!({"KeyId": ec, "KeyPairSpec": "RSA_2048"}),
        ),
        (
            "ReEncrypt",
            json!({"CiphertextBlob": b64(&[1; 100]), "DestinationKeyId": sym}),
        ),
        (
            "GenerateMac",
            json!({"KeyId": hmac, "Message": b64(b"m"), "MacAlgorithm": "HMAC_SHA_256"}),
        ),
        (
            "VerifyMac",
            json!({"KeyId": hmac, "Message": b64(b"m"), "Mac": b64(&[0; 3]), "MacAlgorithm": "HMAC_SHA_224"}),
        ),
        ("GetPublicKey", json!({"KeyId": sym})),
        ("EnableKeyRotation", json!({"KeyId": ec})),
        ("RotateKeyOnDemand", json!({"KeyId": hmac})),
        ("ListKeys", json!({"Marker": "garbage"})),
        ("ListAliases", json!({"Marker": "garbage"})),
        (
            "CreateAlias",
            json!({"AliasName": "alias/aws/x", "TargetKeyId": sym}),
        ),
        ("CreateKey", json!({"KeySpec": "HMAC_256"})),
        ("CreateKey", json!({"Description": "x".repeat(8193)})),
        (
            "TagResource",
            json!({"KeyId": sym, "Tags": [{"TagKey": "", "TagValue": "v"}]}),
        ),
        (
            "Encrypt",
            json!({"KeyId": sym, "Plaintext": b64(b"x"), "GrantTokens": ["t"]}),
        ),
        (
            "Encrypt",
            json!({"KeyId": sym, "Plaintext": b64(b"x"), "DryRun": true}),
        ),
        (
            "DescribeKey",
            json!({"KeyId": "arn:aws:kms:us-east-1:p2:key/00000000-0000-0000-0000-000000000000"}),
        ),
        ("DescribeKey", json!({"KeyId": "arn:aws:kms:bad"})),
    ];
    for (op, body) in cases {
        let r = k.call(op, body.clone()).await;
        assert!(
            r.status.is_client_error(),
            "{op} {body}: {} {}",
            r.status,
            r.body
        );
        assert!(r.body["__type"].is_string(), "{op} {body}: {}", r.body);
        println!("{op}: {} {}", r.body["__type"], r.body["message"]);
    }
}
