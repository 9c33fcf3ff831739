//! KMIP 1.2 request messages (Register of a Secret Data object, Get, Destroy, Discover Versions, with an
//! optional Username and Password credential in the header) and the checked reading of response messages into
//! an [`Outcome`]: the batch item's payload, or the server's result status, reason and message. The tag and
//! enumeration values come from the KMIP 1.2 specification (as PyKMIP 0.11 spells them).

use zeroize::Zeroizing;

use super::ttlv::{Item, Value};

/// Tags (KMIP 1.2 §9.1.3.1).
pub mod tag {
    pub const ATTRIBUTE: u32 = 0x420008;
    pub const ATTRIBUTE_NAME: u32 = 0x42000A;
    pub const ATTRIBUTE_VALUE: u32 = 0x42000B;
    pub const AUTHENTICATION: u32 = 0x42000C;
    pub const BATCH_COUNT: u32 = 0x42000D;
    pub const BATCH_ITEM: u32 = 0x42000F;
    pub const CREDENTIAL: u32 = 0x420023;
    pub const CREDENTIAL_TYPE: u32 = 0x420024;
    pub const CREDENTIAL_VALUE: u32 = 0x420025;
    pub const KEY_BLOCK: u32 = 0x420040;
    pub const KEY_FORMAT_TYPE: u32 = 0x420042;
    pub const KEY_MATERIAL: u32 = 0x420043;
    pub const KEY_VALUE: u32 = 0x420045;
    pub const MAXIMUM_RESPONSE_SIZE: u32 = 0x420050;
    pub const NAME_TYPE: u32 = 0x420054;
    pub const NAME_VALUE: u32 = 0x420055;
    pub const OBJECT_TYPE: u32 = 0x420057;
    pub const OPERATION: u32 = 0x42005C;
    pub const PROTOCOL_VERSION: u32 = 0x420069;
    pub const PROTOCOL_VERSION_MAJOR: u32 = 0x42006A;
    pub const PROTOCOL_VERSION_MINOR: u32 = 0x42006B;
    pub const REQUEST_HEADER: u32 = 0x420077;
    pub const REQUEST_MESSAGE: u32 = 0x420078;
    pub const REQUEST_PAYLOAD: u32 = 0x420079;
    pub const RESPONSE_HEADER: u32 = 0x42007A;
    pub const RESPONSE_MESSAGE: u32 = 0x42007B;
    pub const RESPONSE_PAYLOAD: u32 = 0x42007C;
    pub const RESULT_MESSAGE: u32 = 0x42007D;
    pub const RESULT_REASON: u32 = 0x42007E;
    pub const RESULT_STATUS: u32 = 0x42007F;
    pub const SECRET_DATA: u32 = 0x420085;
    pub const SECRET_DATA_TYPE: u32 = 0x420086;
    pub const TEMPLATE_ATTRIBUTE: u32 = 0x420091;
    pub const UNIQUE_IDENTIFIER: u32 = 0x420094;
    pub const USERNAME: u32 = 0x420099;
    pub const PASSWORD: u32 = 0x4200A1;
}

/// Operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Register = 0x03,
    Get = 0x0A,
    Destroy = 0x14,
    DiscoverVersions = 0x1E,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Register => "Register",
            Operation::Get => "Get",
            Operation::Destroy => "Destroy",
            Operation::DiscoverVersions => "Discover Versions",
        }
    }
}

const OBJECT_TYPE_SECRET_DATA: u32 = 0x07;
const SECRET_DATA_TYPE_PASSWORD: u32 = 0x01;
const KEY_FORMAT_TYPE_OPAQUE: u32 = 0x02;
const CREDENTIAL_USERNAME_AND_PASSWORD: u32 = 0x01;
const NAME_TYPE_UNINTERPRETED_TEXT: u32 = 0x01;
/// Encrypt | Decrypt: PyKMIP accepts any mask; strict servers want one on Register.
const USAGE_MASK: i32 = 0x04 | 0x08;

const RESULT_SUCCESS: u32 = 0x00;
/// The result reason of a missing object.
pub const REASON_ITEM_NOT_FOUND: u32 = 0x01;

/// A username/password credential for the request header.
pub struct Credential<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

/// The protocol version this client speaks.
pub const VERSION: (i32, i32) = (1, 2);

/// A full request message with one batch item; `max_response` is announced as the Maximum Response Size
/// (PyKMIP's default is 1 MiB).
pub fn request(
    op: Operation,
    payload: Vec<Item>,
    credential: Option<&Credential<'_>>,
    max_response: i32,
) -> Item {
    // The header's fields in the order of KMIP 1.2 §7.2.
    let mut header = vec![
        Item::structure(
            tag::PROTOCOL_VERSION,
            vec![
                Item::integer(tag::PROTOCOL_VERSION_MAJOR, VERSION.0),
                Item::integer(tag::PROTOCOL_VERSION_MINOR, VERSION.1),
            ],
        ),
        Item::integer(tag::MAXIMUM_RESPONSE_SIZE, max_response),
    ];
    if let Some(c) = credential {
        header.push(Item::structure(
            tag::AUTHENTICATION,
            vec![Item::structure(
                tag::CREDENTIAL,
                vec![
                    Item::enumeration(tag::CREDENTIAL_TYPE, CREDENTIAL_USERNAME_AND_PASSWORD),
                    Item::structure(
                        tag::CREDENTIAL_VALUE,
                        vec![
                            Item::text(tag::USERNAME, c.username),
                            Item::text(tag::PASSWORD, c.password),
                        ],
                    ),
                ],
            )],
        ));
    }
    header.push(Item::integer(tag::BATCH_COUNT, 1));
    Item::structure(
        tag::REQUEST_MESSAGE,
        vec![
            Item::structure(tag::REQUEST_HEADER, header),
            Item::structure(
                tag::BATCH_ITEM,
                vec![
                    Item::enumeration(tag::OPERATION, op as u32),
                    Item::structure(tag::REQUEST_PAYLOAD, payload),
                ],
            ),
        ],
    )
}

fn attribute(name: &str, value: Item) -> Item {
    Item::structure(
        tag::ATTRIBUTE,
        vec![Item::text(tag::ATTRIBUTE_NAME, name), value],
    )
}

/// The payload of a Register of `secret` as a Secret Data object (type Password, key format Opaque) named
/// `name`.
pub fn register_payload(name: &str, secret: &[u8]) -> Vec<Item> {
    vec![
        Item::enumeration(tag::OBJECT_TYPE, OBJECT_TYPE_SECRET_DATA),
        Item::structure(
            tag::TEMPLATE_ATTRIBUTE,
            vec![
                attribute(
                    "Cryptographic Usage Mask",
                    Item::integer(tag::ATTRIBUTE_VALUE, USAGE_MASK),
                ),
                attribute(
                    "Name",
                    Item::structure(
                        tag::ATTRIBUTE_VALUE,
                        vec![
                            Item::text(tag::NAME_VALUE, name),
                            Item::enumeration(tag::NAME_TYPE, NAME_TYPE_UNINTERPRETED_TEXT),
                        ],
                    ),
                ),
            ],
        ),
        Item::structure(
            tag::SECRET_DATA,
            vec![
                Item::enumeration(tag::SECRET_DATA_TYPE, SECRET_DATA_TYPE_PASSWORD),
                Item::structure(
                    tag::KEY_BLOCK,
                    vec![
                        Item::enumeration(tag::KEY_FORMAT_TYPE, KEY_FORMAT_TYPE_OPAQUE),
                        Item::structure(
                            tag::KEY_VALUE,
                            vec![Item::bytes(tag::KEY_MATERIAL, secret)],
                        ),
                    ],
                ),
            ],
        ),
    ]
}

/// The payload of Get and Destroy: just the unique identifier.
pub fn uid_payload(uid: &str) -> Vec<Item> {
    vec![Item::text(tag::UNIQUE_IDENTIFIER, uid)]
}

/// What the server answered for the one batch item.
#[derive(Debug)]
pub enum Outcome {
    /// Success, with the response payload (absent for operations without one).
    Success(Option<Item>),
    /// The server refused: result status, reason and message as sent.
    Failure {
        status: u32,
        reason: Option<u32>,
        message: Option<String>,
    },
}

/// A response that does not have the shape of a KMIP response message.
#[derive(Debug, thiserror::Error)]
#[error("malformed KMIP response: {0}")]
pub struct Malformed(pub String);

fn malformed(what: impl Into<String>) -> Malformed {
    Malformed(what.into())
}

fn enumeration(item: &Item, tag: u32, what: &str) -> Result<Option<u32>, Malformed> {
    match item.child(tag).map(|i| &i.value) {
        None => Ok(None),
        Some(Value::Enumeration(v)) => Ok(Some(*v)),
        Some(_) => Err(malformed(format!("{what} is not an enumeration"))),
    }
}

/// Reads a decoded response message sent for `op`.
pub fn read_response(message: &Item, op: Operation) -> Result<Outcome, Malformed> {
    if message.tag != tag::RESPONSE_MESSAGE || !matches!(message.value, Value::Structure(_)) {
        return Err(malformed(format!("top-level item {:06X}", message.tag)));
    }
    if message.child(tag::RESPONSE_HEADER).is_none() {
        return Err(malformed("no response header"));
    }
    let mut items = message.children_with(tag::BATCH_ITEM);
    let item = items.next().ok_or_else(|| malformed("no batch item"))?;
    if items.next().is_some() {
        return Err(malformed("more than one batch item"));
    }
    if let Some(got) = enumeration(item, tag::OPERATION, "operation")?
        && got != op as u32
    {
        return Err(malformed(format!(
            "answer for operation {got:#x} to a {} request",
            op.name()
        )));
    }
    let status = enumeration(item, tag::RESULT_STATUS, "result status")?
        .ok_or_else(|| malformed("no result status"))?;
    if status == RESULT_SUCCESS {
        let payload = item.child(tag::RESPONSE_PAYLOAD).cloned();
        return Ok(Outcome::Success(payload));
    }
    let reason = enumeration(item, tag::RESULT_REASON, "result reason")?;
    let message = match item.child(tag::RESULT_MESSAGE).map(|i| &i.value) {
        None => None,
        Some(Value::TextString(s)) => Some(s.clone()),
        Some(_) => return Err(malformed("result message is not text")),
    };
    Ok(Outcome::Failure {
        status,
        reason,
        message,
    })
}

/// The unique identifier in a Register or Get response payload.
pub fn unique_identifier(payload: &Item) -> Result<String, Malformed> {
    match payload.child(tag::UNIQUE_IDENTIFIER).map(|i| &i.value) {
        Some(Value::TextString(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(malformed(
            "unique identifier is not a non-empty text string",
        )),
        None => Err(malformed("no unique identifier")),
    }
}

/// The protocol versions listed in a Discover Versions response payload (absent payload: none listed).
pub fn protocol_versions(payload: Option<&Item>) -> Result<Vec<(i32, i32)>, Malformed> {
    let Some(payload) = payload else {
        return Ok(Vec::new());
    };
    payload
        .children_with(tag::PROTOCOL_VERSION)
        .map(|v| {
            match (
                v.child(tag::PROTOCOL_VERSION_MAJOR).map(|i| &i.value),
                v.child(tag::PROTOCOL_VERSION_MINOR).map(|i| &i.value),
            ) {
                (Some(Value::Integer(major)), Some(Value::Integer(minor))) => Ok((*major, *minor)),
                _ => Err(malformed(
                    "protocol version without integer major and minor",
                )),
            }
        })
        .collect()
}

/// Why a Get response carries no usable Secret Data.
#[derive(Debug, thiserror::Error)]
pub enum NotSecretData {
    #[error("the object is not Secret Data (object type {0:#x})")]
    WrongType(u32),
    #[error("{0}")]
    Malformed(#[from] Malformed),
}

/// The key material of the Secret Data object in a Get response payload.
pub fn secret_data(payload: &Item) -> Result<Zeroizing<Vec<u8>>, NotSecretData> {
    let object_type = enumeration(payload, tag::OBJECT_TYPE, "object type")?
        .ok_or_else(|| malformed("no object type"))?;
    if object_type != OBJECT_TYPE_SECRET_DATA {
        return Err(NotSecretData::WrongType(object_type));
    }
    let material = payload
        .child(tag::SECRET_DATA)
        .and_then(|s| s.child(tag::KEY_BLOCK))
        .and_then(|b| b.child(tag::KEY_VALUE))
        .ok_or_else(|| malformed("no Secret Data key value"))?;
    // An unwrapped key value is a structure holding the key material; a byte string here means the server
    // wrapped the value, which this client never asks for.
    match material.child(tag::KEY_MATERIAL).map(|i| &i.value) {
        Some(Value::ByteString(bytes)) => Ok(Zeroizing::new(bytes.to_vec())),
        Some(_) => Err(malformed("key material is not a byte string").into()),
        None => Err(malformed("no key material (wrapped or empty key value)").into()),
    }
}

/// A KMIP result reason by name, for error messages.
pub fn reason_name(reason: u32) -> &'static str {
    match reason {
        0x01 => "Item Not Found",
        0x02 => "Response Too Large",
        0x03 => "Authentication Not Successful",
        0x04 => "Invalid Message",
        0x05 => "Operation Not Supported",
        0x06 => "Missing Data",
        0x07 => "Invalid Field",
        0x08 => "Feature Not Supported",
        0x09 => "Operation Canceled By Requester",
        0x0A => "Cryptographic Failure",
        0x0B => "Illegal Operation",
        0x0C => "Permission Denied",
        0x0D => "Object Archived",
        0x0E => "Index Out Of Bounds",
        0x0F => "Application Namespace Not Supported",
        0x10 => "Key Format Type Not Supported",
        0x11 => "Key Compression Type Not Supported",
        0x100 => "General Failure",
        _ => "other reason",
    }
}

/// A KMIP result status by name.
pub fn status_name(status: u32) -> &'static str {
    match status {
        0x01 => "Operation Failed",
        0x02 => "Operation Pending",
        0x03 => "Operation Undone",
        _ => "unknown status",
    }
}

#[cfg(test)]
mod tests {
    use super::super::ttlv::{decode, to_bytes};
    use super::*;

    fn response(op: Operation, status: u32, extra: Vec<Item>) -> Item {
        let mut batch = vec![
            Item::enumeration(tag::OPERATION, op as u32),
            Item::enumeration(tag::RESULT_STATUS, status),
        ];
        batch.extend(extra);
        Item::structure(
            tag::RESPONSE_MESSAGE,
            vec![
                Item::structure(
                    tag::RESPONSE_HEADER,
                    vec![Item::integer(tag::BATCH_COUNT, 1)],
                ),
                Item::structure(tag::BATCH_ITEM, batch),
            ],
        )
    }

    #[test]
    fn request_round_trips_through_the_codec() {
        let c = Credential {
            username: "u",
            password: "p",
        };
        let req = request(
            Operation::Register,
            register_payload("arca/p/s", b"\0secret"),
            Some(&c),
            1 << 20,
        );
        let bytes = to_bytes(&req);
        assert_eq!(decode(&bytes, 1 << 20).unwrap(), req);
    }

    #[test]
    fn reads_success_failure_and_garbage() {
        let ok = response(
            Operation::Get,
            0,
            vec![Item::structure(
                tag::RESPONSE_PAYLOAD,
                vec![
                    Item::enumeration(tag::OBJECT_TYPE, OBJECT_TYPE_SECRET_DATA),
                    Item::text(tag::UNIQUE_IDENTIFIER, "7"),
                    register_payload("n", b"xyz").remove(2),
                ],
            )],
        );
        let Outcome::Success(Some(payload)) = read_response(&ok, Operation::Get).unwrap() else {
            panic!("not a success");
        };
        assert_eq!(unique_identifier(&payload).unwrap(), "7");
        assert_eq!(&secret_data(&payload).unwrap()[..], b"xyz");

        let failed = response(
            Operation::Get,
            1,
            vec![
                Item::enumeration(tag::RESULT_REASON, REASON_ITEM_NOT_FOUND),
                Item::text(tag::RESULT_MESSAGE, "gone"),
            ],
        );
        assert!(matches!(
            read_response(&failed, Operation::Get).unwrap(),
            Outcome::Failure { status: 1, reason: Some(1), message: Some(ref m) } if m == "gone"
        ));

        assert!(read_response(&ok, Operation::Destroy).is_err());
        assert!(read_response(&Item::integer(tag::RESPONSE_MESSAGE, 1), Operation::Get).is_err());
        let no_status = Item::structure(
            tag::RESPONSE_MESSAGE,
            vec![
                Item::structure(tag::RESPONSE_HEADER, vec![]),
                Item::structure(tag::BATCH_ITEM, vec![]),
            ],
        );
        assert!(read_response(&no_status, Operation::Get).is_err());
        let wrong = Item::structure(
            tag::RESPONSE_PAYLOAD,
            vec![Item::enumeration(tag::OBJECT_TYPE, 2)],
        );
        assert!(matches!(
            secret_data(&wrong),
            Err(NotSecretData::WrongType(2))
        ));
    }
}
