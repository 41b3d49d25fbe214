//! Errors of the dashboard routes, answered in Grafana's shape: `{"message"}` and, for the
//! save conflicts, `{"message", "status"}` with status 412.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    NotFound(&'static str),
    BadRequest(String),
    /// `dashboard.version` is not the stored version.
    VersionMismatch,
    /// Another dashboard in the folder has this title.
    NameExists,
    /// A folder with this title or uid exists.
    FolderExists(String),
    TooLarge,
    Provisioned(&'static str),
    Storage(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotFound(what) => write!(f, "{what} not found"),
            Error::BadRequest(m) | Error::FolderExists(m) | Error::Storage(m) => f.write_str(m),
            Error::VersionMismatch => f.write_str("The dashboard has been changed by someone else"),
            Error::NameExists => f.write_str("A dashboard with the same name in the folder already exists"),
            Error::TooLarge => {
                write!(f, "a dashboard's JSON may be at most {} MiB", crate::MAX_DASHBOARD_BYTES >> 20)
            }
            Error::Provisioned(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (code, status) = match &self {
            Error::NotFound(_) => (StatusCode::NOT_FOUND, None),
            Error::BadRequest(_) | Error::Provisioned(_) => (StatusCode::BAD_REQUEST, None),
            Error::VersionMismatch => (StatusCode::PRECONDITION_FAILED, Some("version-mismatch")),
            Error::NameExists => (StatusCode::PRECONDITION_FAILED, Some("name-exists")),
            Error::FolderExists(_) => (StatusCode::CONFLICT, None),
            Error::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, None),
            Error::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        let body = match status {
            Some(s) => serde_json::json!({ "message": message, "status": s }),
            None => serde_json::json!({ "message": message }),
        };
        (code, axum::Json(body)).into_response()
    }
}
