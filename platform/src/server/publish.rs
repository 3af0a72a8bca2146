//! The publishing endpoints: create, update and withdraw items, withdraw a person, and read
//! back where and when an item was shown. Every change that alters manifests sends a hint to
//! the event streams of the buildings it touched, right after its transaction commits.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use palier_content::Item;
use serde::Serialize;
use serde_json::Value;

use super::extract::{JsonBody, PublisherAuth};
use super::{ApiError, AppState};
use crate::publish::prepare;
use crate::store::{ItemPlays, Publisher, WriteMode};

/// The answer to a create or update: the item as devices receive it.
#[derive(Debug, Serialize)]
pub struct PublishedItem {
    pub item: Item,
    pub buildings: Vec<String>,
    /// The generation the buildings' manifests moved to.
    pub generation: u64,
}

/// The answer to a person's withdrawal.
#[derive(Debug, Serialize)]
pub struct WithdrawnItems {
    pub withdrawn: Vec<String>,
    pub buildings: Vec<String>,
}

async fn write(
    state: AppState,
    publisher: Publisher,
    body: Value,
    path_id: Option<String>,
    mode: WriteMode,
) -> Result<PublishedItem, ApiError> {
    let now = state.now();
    let published = state
        .blocking(move |store| {
            let new = prepare(body, &publisher, path_id.as_deref(), now, |sha| store.media(sha))?;
            Ok(store.publish(&publisher, &new, mode, now)?)
        })
        .await?;
    let reason = if mode == WriteMode::Create { "publish" } else { "update" };
    state.hints().notify(&published.touched, published.generation, reason);
    tracing::info!(item = %published.item.id, version = published.item.version, generation = published.generation, "{reason}");
    Ok(PublishedItem {
        item: published.item,
        buildings: published.buildings,
        generation: published.generation,
    })
}

/// `POST /v1/publish/items`.
pub async fn create(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<PublishedItem>), ApiError> {
    let published = write(state, publisher, body, None, WriteMode::Create).await?;
    Ok((StatusCode::CREATED, Json(published)))
}

/// `PUT /v1/publish/items/{id}`.
pub async fn update(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<PublishedItem>, ApiError> {
    Ok(Json(write(state, publisher, body, Some(id), WriteMode::Update).await?))
}

/// `DELETE /v1/publish/items/{id}`: gone from every manifest at once; repeating it is harmless.
pub async fn withdraw(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    let withdrawal = state.blocking(move |store| Ok(store.withdraw_item(&publisher, &id, now)?)).await?;
    if let Some(generation) = withdrawal.generation {
        state.hints().notify(&withdrawal.buildings, generation, "withdraw");
        tracing::info!(items = ?withdrawal.items, generation, "withdraw");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/publish/people/{person_id}`: every item of that person, at once.
pub async fn withdraw_person(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(person_id): Path<String>,
) -> Result<Json<WithdrawnItems>, ApiError> {
    if !publisher.role.speaks_for_people() {
        return Err(ApiError::forbidden(format!(
            "only the neighbourhood role publishes for people; this publisher is a {}",
            publisher.role
        )));
    }
    let now = state.now();
    let withdrawal =
        state.blocking(move |store| Ok(store.withdraw_person(&publisher, &person_id, now)?)).await?;
    if let Some(generation) = withdrawal.generation {
        state.hints().notify(&withdrawal.buildings, generation, "withdraw");
        tracing::info!(items = ?withdrawal.items, generation, "person withdrawn");
    }
    Ok(Json(WithdrawnItems { withdrawn: withdrawal.items, buildings: withdrawal.buildings }))
}

/// `GET /v1/publish/items/{id}/plays`: proof of display, from the plays devices uploaded.
pub async fn plays(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemPlays>, ApiError> {
    Ok(Json(state.blocking(move |store| Ok(store.item_plays(&publisher, &id)?)).await?))
}
