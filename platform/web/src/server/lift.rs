//! `POST /v1/lift/{lift_id}/status`: the lift company's remote monitoring reports a lift out
//! of service or back in service; the publishing service turns that into flashes.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{JsonBody, PublisherAuth};
use crate::ids::LiftId;
use crate::publishing::lift::{LiftOutcome, LiftReport};
use crate::state::AppState;

/// The body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `out_of_service` or `in_service`.
    pub status: Status,
    /// When the lift should run again (for `out_of_service`).
    #[serde(default)]
    pub expected_return: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OutOfService,
    InService,
}

/// `POST /v1/lift/{lift_id}/status`: idempotent; a repeated status changes nothing.
pub async fn status(
    State(state): State<AppState>,
    PublisherAuth(actor): PublisherAuth,
    Path(lift_id): Path<String>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<LiftOutcome>, ApiError> {
    let unknown =
        || ApiError::not_found(format!("lift {lift_id} does not exist; an administrator registers it first"));
    let id = LiftId::parse(&lift_id).map_err(|_| unknown())?;
    let report = LiftReport {
        running: matches!(body.status, Status::InService),
        expected_return: body.expected_return,
    };
    Ok(Json(state.publishing().lift_status(&actor, &id, report).await?))
}
