//! `Json`: the Barbican API's JSON response body. Serialized straight into one `Vec` that starts large enough for
//! a typical answer (a page of ten secrets is about 4 KiB), where axum's `Json` grows a `BytesMut` from 128
//! bytes — five reallocations and a `put_slice` call per fragment for a page (11% of a list request in the
//! profile, bench/README.md).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::error::ApiError;

/// The buffer a response starts with; a larger answer grows it as usual.
const INITIAL_CAPACITY: usize = 4096;

/// A JSON response body (`Content-Type: application/json`).
pub(crate) struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(INITIAL_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The response could not be serialized.",
            )
            .into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    /// The body is the value's JSON, whatever its size, with Barbican's content type.
    #[tokio::test]
    async fn answers_the_values_json() {
        for names in [vec!["a".to_owned()], vec!["x\"y\n".repeat(2000); 3]] {
            let value = serde_json::json!({ "names": names, "total": 3 });
            let response = Json(&value).into_response();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let body = body_of(response).await;
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
                value
            );
        }
    }

    /// A value JSON cannot express (a map with non-string keys) is a 500 in Barbican's error body, not a panic.
    #[tokio::test]
    async fn an_unserializable_value_is_an_internal_error() {
        let value: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let response = Json(value).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = serde_json::from_slice(&body_of(response).await).unwrap();
        assert_eq!(body["code"], 500);
    }
}
