//! The AWS KMS JSON 1.1 protocol on the API listener: `POST /` with `X-Amz-Target: TrentService.<Op>`.
//! `sigv4` is public so that clients (`arca key`) sign requests with the same code that verifies them.

pub mod sigv4;
