//! One mutually authenticated TLS connection to the KMIP server and the framing of messages over it: connect
//! (TCP + handshake) under the timeout, then write one request and read exactly one TTLV response under the
//! timeout, refusing responses that do not start like a Response Message or announce more than the limit.
//! Response buffers are zeroized when dropped.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use zeroize::Zeroizing;

use super::messages::tag;
use super::ttlv;

/// The largest response accepted (a Secret Data payload plus its envelope; Barbican payloads are far smaller).
pub const MAX_RESPONSE: usize = 4 * 1024 * 1024;
/// The largest payload `put` sends, so that its Get response stays under [`MAX_RESPONSE`].
pub const MAX_PAYLOAD: usize = 2 * 1024 * 1024;

/// Why a connection or round trip failed.
#[derive(Debug)]
pub enum ConnError {
    /// The TCP connection or TLS session failed or was closed (refused, reset, EOF, handshake refused).
    Io(String),
    /// The step did not finish within the timeout.
    Timeout(&'static str),
    /// The peer sent something that is not a KMIP response message.
    Malformed(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => f.write_str(e),
            ConnError::Timeout(step) => write!(f, "timed out {step}"),
            ConnError::Malformed(e) => write!(f, "malformed KMIP response: {e}"),
        }
    }
}

fn io_error(step: &str, e: &std::io::Error) -> ConnError {
    use std::io::ErrorKind;
    let what = match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_string(),
        ErrorKind::ConnectionReset => "connection reset".to_string(),
        ErrorKind::UnexpectedEof => "connection closed by the server".to_string(),
        ErrorKind::BrokenPipe => "connection closed by the server (broken pipe)".to_string(),
        _ => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(rustls::Error::AlertReceived(alert)) if refuses_certificate(*alert) => {
                format!(
                    "the server refused the client certificate (received fatal alert: {alert:?})"
                )
            }
            _ => e.to_string(),
        },
    };
    ConnError::Io(format!("{step}: {what}"))
}

/// Alerts a server sends when it does not accept the client certificate.
fn refuses_certificate(alert: rustls::AlertDescription) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        alert,
        A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
            | A::CertificateRequired
    )
}

/// An open TLS session with the server.
pub struct Connection {
    stream: TlsStream<TcpStream>,
}

impl Connection {
    /// Connects to `host:port` and completes the TLS handshake, all within `timeout`.
    pub async fn open(
        host: &str,
        port: u16,
        tls: &Arc<ClientConfig>,
        server_name: &ServerName<'static>,
        timeout: Duration,
    ) -> Result<Self, ConnError> {
        let connect = async {
            let tcp = TcpStream::connect((host, port))
                .await
                .map_err(|e| io_error("connect", &e))?;
            // Requests are single small writes; do not wait for more.
            let _ = tcp.set_nodelay(true);
            let stream = TlsConnector::from(Arc::clone(tls))
                .connect(server_name.clone(), tcp)
                .await
                .map_err(|e| io_error("TLS handshake", &e))?;
            Ok(Connection { stream })
        };
        match tokio::time::timeout(timeout, connect).await {
            Ok(result) => result,
            Err(_) => Err(ConnError::Timeout("connecting")),
        }
    }

    /// Sends `request` and reads one response message, all within `timeout`.
    pub async fn round_trip(
        &mut self,
        request: &[u8],
        timeout: Duration,
    ) -> Result<Zeroizing<Vec<u8>>, ConnError> {
        let exchange = async {
            self.stream
                .write_all(request)
                .await
                .map_err(|e| io_error("sending the request", &e))?;
            self.stream
                .flush()
                .await
                .map_err(|e| io_error("sending the request", &e))?;
            let mut header = [0u8; 8];
            self.stream
                .read_exact(&mut header)
                .await
                .map_err(|e| io_error("reading the response", &e))?;
            check_header(&header)?;
            let len = ttlv::framed_len(&header)
                .filter(|&len| len <= MAX_RESPONSE)
                .ok_or_else(|| {
                    ConnError::Malformed(format!(
                        "response announces more than {MAX_RESPONSE} bytes"
                    ))
                })?;
            let mut buf = Zeroizing::new(vec![0u8; len]);
            buf[..8].copy_from_slice(&header);
            self.stream
                .read_exact(&mut buf[8..])
                .await
                .map_err(|e| io_error("reading the response", &e))?;
            Ok(buf)
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ConnError::Timeout("waiting for the response")),
        }
    }
}

/// A response must be a Response Message structure.
fn check_header(header: &[u8; 8]) -> Result<(), ConnError> {
    let tag = u32::from_be_bytes([0, header[0], header[1], header[2]]);
    if tag != tag::RESPONSE_MESSAGE || header[3] != 0x01 {
        return Err(ConnError::Malformed(format!(
            "starts with tag {tag:06X} type {:#04x}, not a Response Message structure",
            header[3]
        )));
    }
    Ok(())
}
