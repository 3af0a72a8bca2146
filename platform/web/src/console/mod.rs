//! The publisher console: server-rendered pages over the same service and rules as the
//! publishing API, for landlords, caretakers, shops, moderators and admins, French first,
//! usable on a phone, with a keyboard and with a screen reader.
//!
//! - [`session`]: console sessions in the platform's store, CSRF, the `Signed` person.
//! - [`auth`]: log in (rate-limited per account and per address), log out, set a password.
//! - [`items`]: a building's items, an item with its proof of play, withdrawal, moderation.
//! - [`publish`]: the publish and edit form with its exact preview ([`preview`] runs
//!   `palier-player render`; the platform never links the player).
//! - [`screens`]: what each board and screen of a building reports, and shows now.
//! - [`admin`]: people, building settings and the audit log (admins only).
//! - [`state`]: the console's own state beside the services.
//! - [`text`]: every sentence in French and English; [`view`]: dates, durations, labels.
//!
//! Templates live in `platform/web/templates/` and are checked at compile time (askama).

pub mod admin;
pub mod auth;
pub mod items;
pub mod page;
pub mod preview;
pub mod publish;
pub mod screens;
pub mod session;
pub mod state;
pub mod text;
pub mod thumbnails;
pub mod view;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::state::AppState;
pub use page::{ConsoleError, Lang, Page, enc, html, see_other};
pub use session::{Signed, StoreSessions};
pub use state::ConsoleState;
pub use text::Text;

const CONSOLE_CSS: &str = include_str!("../../templates/console.css");
const CONSOLE_JS: &str = include_str!("../../templates/console.js");

async fn stylesheet() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")], CONSOLE_CSS)
}

async fn script() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")], CONSOLE_JS)
}

/// How long a console session lasts without use.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(12);

/// The console's routes over these services, with their session layer and the console's
/// own state.
pub fn routes(services: AppState) -> Router {
    let state = ConsoleState::new(services);
    let sessions = SessionManagerLayer::new(StoreSessions::new(state.accounts().clone()))
        .with_name("palier_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(state.console_settings().secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
    Router::new()
        .route("/", get(items::home))
        .route("/login", get(auth::login_page).post(auth::log_in))
        .route("/logout", post(auth::log_out))
        .route("/password/{token}", get(auth::password_page).post(auth::set_password))
        .route("/b/{building}/items", get(items::building_items))
        .route("/b/{building}/new", get(publish::new_page).post(publish::submit_new))
        .route("/b/{building}/screens", get(screens::screens_page))
        .route("/b/{building}/screens/{device}/{screen}", get(screens::thumbnail))
        .route("/b/{building}/settings", get(admin::settings_page).post(admin::save_settings))
        .route("/items/{id}", get(items::item_page))
        .route("/items/{id}/plays.csv", get(items::plays_csv))
        .route("/items/{id}/edit", get(publish::edit_page).post(publish::submit_edit))
        .route("/items/{id}/withdraw", get(items::withdraw_page).post(items::withdraw))
        .route("/media/{sha256}", get(items::media))
        .route("/moderation", get(items::moderation_page))
        .route("/moderation/{id}", post(items::moderate))
        .route("/people", get(admin::people_page).post(admin::add_person))
        .route("/people/{id}/disable", post(admin::disable_person))
        .route("/people/{id}/enable", post(admin::enable_person))
        .route("/audit", get(admin::audit_page))
        .route("/audit.csv", get(admin::audit_csv))
        .route("/console.css", get(stylesheet))
        .route("/console.js", get(script))
        .layer(middleware::from_fn(page::error_pages))
        .layer(sessions)
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use axum::http::Request as HttpRequest;

    use super::*;

    #[test]
    fn the_language_comes_from_the_switch_the_cookie_then_the_browser() {
        let lang = |uri: &str, headers: &[(&str, &str)]| {
            let mut request = HttpRequest::builder().uri(uri);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let (parts, _) = request.body(()).unwrap().into_parts();
            Lang::from_parts(&parts)
        };
        // (uri, headers, language)
        let cases: Vec<(&str, Vec<(&str, &str)>, Lang)> = vec![
            ("/", vec![], Lang::Fr),
            ("/", vec![("accept-language", "en-GB,en;q=0.9")], Lang::En),
            ("/", vec![("accept-language", "de-DE,en;q=0.5")], Lang::En),
            ("/", vec![("accept-language", "fr-FR,en;q=0.5")], Lang::Fr),
            ("/", vec![("accept-language", "en"), ("cookie", "a=b; lang=fr")], Lang::Fr),
            ("/?lang=en", vec![("cookie", "lang=fr")], Lang::En),
            ("/x?lang=xx", vec![], Lang::Fr),
        ];
        for (uri, headers, expected) in cases {
            assert_eq!(lang(uri, &headers), expected, "{uri} {headers:?}");
        }
    }

    #[test]
    fn the_switch_keeps_the_rest_of_the_query() {
        let page = Page::anonymous(Lang::Fr, "t", String::new(), "/b/x/items?state=live&lang=fr");
        assert_eq!(page.other_lang_href(), "/b/x/items?lang=en&state=live");
    }
}
