//! [`ObjectStore`] with `aws-sdk-s3`.

use super::sdk::api_error;
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
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                let e = api_error(e);
                return if e.kind == ApiErrorKind::NotFound {
                    Ok(Fetched::NotFound)
                } else {
                    Err(e)
                };
            }
        };
        if let Some(length) = out.content_length.and_then(|l| u64::try_from(l).ok())
            && length > max_bytes
        {
            return Ok(Fetched::TooLarge(length));
        }
        let body = out.body.collect().await.map_err(|e| {
            ApiError::new(
                ApiErrorKind::Unavailable,
                "BodyReadFailed",
                format!("reading s3://{bucket}/{key} failed: {e}"),
            )
        })?;
        let bytes = body.into_bytes();
        if bytes.len() as u64 > max_bytes {
            return Ok(Fetched::TooLarge(bytes.len() as u64));
        }
        Ok(Fetched::Body(bytes.to_vec()))
    }
}
