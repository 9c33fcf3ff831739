//! Integration tests of arca-crypto's KMS primitives, one module per job. RSA keys are generated once per
//! size for the whole binary (RSA-4096 generation is slow in debug builds).

mod blob;
mod keys;
mod mac;
mod material;
mod rsa_oaep;
mod sign;
