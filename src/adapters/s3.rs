//! [`ObjectStore`] with `aws-sdk-s3`.

use aws_sdk_s3::primitives::ByteStream;

use super::sdk::{OPERATION_TIMEOUT, api_error, found};
use crate::ports::{ApiError, ApiErrorKind, Fetched, ObjectStore};

#[derive(Debug, Clone)]
pub struct S3Client {
    client: aws_sdk_s3::Client,
}

impl S3Client {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }

    pub fn from_conf(config: &aws_config::SdkConfig, force_path_style: bool) -> Self {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(force_path_style)
            .build();
        Self::new(aws_sdk_s3::Client::from_conf(s3_config))
    }
}

impl ObjectStore for S3Client {
    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        max_bytes: u64,
    ) -> Result<Fetched, ApiError> {
        let result = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await;
        let Some(out) = found(result.map_err(api_error))? else {
            return Ok(Fetched::NotFound);
        };
        if let Some(length) = out.content_length.and_then(|l| u64::try_from(l).ok())
            && length > max_bytes
        {
            return Ok(Fetched::TooLarge(Some(length)));
        }
        // The announced length may be missing (or wrong): read at most one
        // byte past the limit, and not for longer than a call may take.
        let read = tokio::time::timeout(OPERATION_TIMEOUT, read_at_most(out.body, max_bytes));
        match read.await {
            Ok(Ok(fetched)) => Ok(fetched),
            Ok(Err(e)) => Err(ApiError::new(
                ApiErrorKind::Unavailable,
                "BodyReadFailed",
                format!("reading s3://{bucket}/{key} failed: {e}"),
            )),
            Err(_) => Err(ApiError::new(
                ApiErrorKind::Unavailable,
                "Timeout",
                format!(
                    "reading s3://{bucket}/{key} took longer than {} s",
                    OPERATION_TIMEOUT.as_secs()
                ),
            )),
        }
    }
}

/// Reads a body up to `max_bytes`; a body longer than that is `TooLarge`.
/// It keeps at most `max_bytes + 1` bytes and asks for no chunk after the one
/// that passes the limit.
async fn read_at_most(
    mut body: ByteStream,
    max_bytes: u64,
) -> Result<Fetched, aws_sdk_s3::primitives::ByteStreamError> {
    let limit = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        let room = (limit + 1).saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() > limit {
            return Ok(Fetched::TooLarge(None));
        }
    }
    Ok(Fetched::Body(bytes))
}
