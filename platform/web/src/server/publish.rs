//! The publishing endpoints: create, update and withdraw items, erase a person, and read back
//! where and when an item was shown. Each parses the request, calls the publishing service
//! ([`crate::publishing`]), which decides and sends the change hints, and maps the answer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use palier_content::Item;
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{JsonBody, PublisherAuth};
use crate::ids::{AreaId, BuildingId, ItemId, PersonId};
use crate::moderation::Moderation;
use crate::publishing::{Published, PublishingError, Target};
use crate::state::AppState;
use crate::store::ItemPlays;

/// The answer to a create or update: the item as devices receive it.
#[derive(Debug, Serialize)]
pub struct PublishedItem {
    pub item: Item,
    /// The buildings it names.
    pub buildings: Vec<BuildingId>,
    /// The areas it names.
    pub areas: Vec<AreaId>,
    /// Every building whose boards receive it now.
    pub reach: Vec<BuildingId>,
    /// The generation the buildings' manifests moved to.
    pub generation: u64,
    /// `{"state": "pending"}` while it waits for a moderator; `rejected` carries the reason.
    pub moderation: Moderation,
}

impl From<Published> for PublishedItem {
    fn from(p: Published) -> PublishedItem {
        PublishedItem {
            item: p.item,
            buildings: p.buildings,
            areas: p.areas,
            reach: p.reach,
            generation: p.generation,
            moderation: p.moderation,
        }
    }
}

/// The answer to `GET /v1/publish/items/{id}`: the item and what became of it.
#[derive(Debug, Serialize)]
pub struct ItemState {
    pub item: Item,
    pub buildings: Vec<BuildingId>,
    pub areas: Vec<AreaId>,
    pub reach: Vec<BuildingId>,
    pub moderation: Moderation,
    /// When it left the manifests and why, if it did.
    pub withdrawn: Option<Withdrawn>,
}

#[derive(Debug, Serialize)]
pub struct Withdrawn {
    pub at: jiff::Timestamp,
    pub reason: String,
}

/// The answer to a person's erasure.
#[derive(Debug, Serialize)]
pub struct WithdrawnItems {
    pub withdrawn: Vec<ItemId>,
    pub buildings: Vec<BuildingId>,
}

/// An item id from the path: a malformed one names no item.
fn item_id(id: &str) -> Result<ItemId, ApiError> {
    ItemId::parse(id).map_err(|_| ApiError::not_found(format!("item {id} does not exist")))
}

/// `POST /v1/publish/items`.
pub async fn create(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<PublishedItem>), ApiError> {
    let id = body.get("id").and_then(Value::as_str).map(str::to_owned);
    let published =
        state.publishing().publish(&publisher, body, Target::Create).await.map_err(|e| match e {
            // The service says the id is taken; the API says how to write a new version of it.
            PublishingError::Conflict { message, current: None } if id.is_some() => {
                PublishingError::Conflict {
                    message: format!(
                        "{message}; PUT /v1/publish/items/{} publishes a new version",
                        id.unwrap_or_default()
                    ),
                    current: None,
                }
            }
            other => other,
        })?;
    Ok((StatusCode::CREATED, Json(published.into())))
}

/// `GET /v1/publish/items/{id}`: the item, its moderation state (and a rejection's reason).
pub async fn read(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemState>, ApiError> {
    let record = state.publishing().item(&publisher, &item_id(&id)?).await?;
    Ok(Json(ItemState {
        item: record.item,
        buildings: record.buildings,
        areas: record.areas,
        reach: record.reach,
        moderation: record.moderation,
        withdrawn: record.withdrawn.map(|(at, reason)| Withdrawn { at, reason }),
    }))
}

/// `PUT /v1/publish/items/{id}`.
pub async fn update(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<PublishedItem>, ApiError> {
    let id = item_id(&id)?;
    let published = state.publishing().publish(&publisher, body, Target::Update(id)).await?;
    Ok(Json(published.into()))
}

/// `DELETE /v1/publish/items/{id}`: gone from every manifest at once; repeating it is harmless.
pub async fn withdraw(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.publishing().withdraw(&publisher, &item_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/publish/people/{person_id}`: every item of that person, at once.
pub async fn withdraw_person(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(person_id): Path<String>,
) -> Result<Json<WithdrawnItems>, ApiError> {
    let person = PersonId::parse(&person_id).map_err(ApiError::bad_request)?;
    let withdrawal = state.publishing().erase_person(&publisher, &person).await?;
    Ok(Json(WithdrawnItems { withdrawn: withdrawal.items, buildings: withdrawal.moved.buildings }))
}

/// `GET /v1/publish/items/{id}/plays`: proof of display, from the plays devices uploaded.
pub async fn plays(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemPlays>, ApiError> {
    Ok(Json(state.publishing().item_plays(&publisher, &item_id(&id)?).await?))
}
