//! Reports imported by a job: large reports (or any, when the client asks)
//! are stored with their parameters and a `findings.import` job in one
//! transaction; the client polls the upload for the import's reply. Any
//! node's workers can run it, since the file is in the database.

use async_trait::async_trait;
use rampart_core::finding::{ReportUpload, UploadState, IMPORT_JOB};
use rampart_core::{Error, ErrorKind, Job, NewJob, Permission, Timestamp, UploadId};
use serde::Serialize;

use super::Vulnerabilities;
use crate::api::vulns::{ImportReply, ImportRequest};
use crate::jobs::handler::{JobFailure, JobHandler};
use crate::principal::Principal;

/// Reports larger than this are imported by a job unless the client asks
/// otherwise.
pub const ASYNC_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// Where an uploaded report's import stands, as clients see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadStatus {
    pub id: UploadId,
    pub state: UploadState,
    /// The report's size in bytes.
    pub size: u64,
    pub file_name: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// What the import did, once done.
    pub import: Option<ImportReply>,
    /// Why it failed (a report that cannot be read names its line).
    pub error: Option<String>,
}

impl UploadStatus {
    fn of(upload: ReportUpload) -> Self {
        let request: Option<ImportRequest> = serde_json::from_value(upload.request).ok();
        UploadStatus {
            id: upload.id,
            state: upload.state,
            size: upload.size,
            file_name: request.and_then(|r| r.file_name),
            created_at: upload.created_at,
            finished_at: upload.finished_at,
            import: upload.result.and_then(|r| serde_json::from_value(r).ok()),
            error: upload.error,
        }
    }
}

impl Vulnerabilities {
    /// `POST /imports` for a report to import by a job: the upload, queued.
    pub async fn queue_import(
        &self,
        principal: &Principal,
        request: ImportRequest,
        bytes: Vec<u8>,
    ) -> Result<UploadStatus, Error> {
        super::imports::require_importer(principal)?;
        super::imports::check_request(&request, &bytes)?;
        let now = self.clock.now();
        let org = principal.org_id;
        let upload = ReportUpload {
            id: UploadId::new(),
            org_id: org,
            actor: principal.audit_actor(),
            request: serde_json::to_value(&request).map_err(|e| Error::internal(&e))?,
            size: bytes.len() as u64,
            state: UploadState::Queued,
            result: None,
            error: None,
            created_at: now,
            finished_at: None,
        };
        let job = NewJob {
            max_attempts: 3,
            ..NewJob::new(
                Some(org),
                "default",
                IMPORT_JOB,
                serde_json::json!({ "upload_id": upload.id }),
                now,
            )
        };
        let audit = self.audit.entry_in(
            org,
            upload.actor.clone(),
            "findings.upload",
            ("upload", upload.id.to_string()),
            None,
            Some(serde_json::json!({
                "asset": request.asset, "file_name": request.file_name, "size": upload.size,
            })),
        );
        self.store
            .create_upload(&upload, &bytes, &job, &audit)
            .await?;
        Ok(UploadStatus::of(upload))
    }

    /// `GET /imports/uploads/{id}`.
    pub async fn upload(&self, principal: &Principal, id: UploadId) -> Result<UploadStatus, Error> {
        if !principal.may(Permission::Analyse) && !principal.may(Permission::Ingest) {
            principal.require(Permission::Read)?;
        }
        self.store
            .get_upload(principal.org_id, id)
            .await?
            .map(UploadStatus::of)
            .ok_or_else(|| Error::not_found("upload"))
    }
}

/// The `findings.import` job: imports one upload.
pub struct ImportUpload(pub Vulnerabilities);

#[async_trait]
impl JobHandler for ImportUpload {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let vulns = &self.0;
        let (Some(org), Some(id)) = (
            job.org_id,
            job.payload["upload_id"]
                .as_str()
                .and_then(|s| s.parse::<UploadId>().ok()),
        ) else {
            return Err(JobFailure::Permanent("no upload named".into()));
        };
        let Some(upload) = vulns
            .store
            .get_upload(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        let Some(bytes) = vulns
            .store
            .start_upload(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        let request: ImportRequest = serde_json::from_value(upload.request)
            .map_err(|e| JobFailure::Permanent(e.to_string()))?;
        let outcome = vulns.import_as(org, upload.actor, request, bytes).await;
        let now = vulns.clock.now();
        let finished =
            match outcome {
                Ok(reply) => Ok(serde_json::to_value(&reply)
                    .map_err(|e| JobFailure::Permanent(e.to_string()))?),
                // The report itself is at fault: trying again cannot help.
                Err(error) if !matches!(error.kind, ErrorKind::Internal | ErrorKind::Busy) => {
                    Err(error.detail)
                }
                Err(error) if job.attempts < job.max_attempts => {
                    return Err(JobFailure::retry(error.detail));
                }
                Err(error) => Err(error.detail),
            };
        vulns
            .store
            .finish_upload(org, id, finished, now)
            .await
            .map_err(JobFailure::retry)
    }
}
