//! The console's own state, apart from the services every door shares: the preview
//! renderer, the thumbnails it drew, and the login limits. Console routes run on
//! [`ConsoleState`]; the services come with it ([`AppState`] is a `FromRef` substate, and the
//! console state derefs to it), so the API's state knows nothing of the console.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;

use super::preview::Renderer;
use super::thumbnails::Thumbnails;
use crate::limiter::FailureLimiter;
use crate::state::AppState;

/// Failed console logins one account, and one client address, may make per window.
#[derive(Debug)]
pub(crate) struct LoginLimits {
    pub(crate) by_account: FailureLimiter<String>,
    pub(crate) by_address: FailureLimiter<std::net::IpAddr>,
}

/// What the console's handlers share: the services and the console's own parts.
#[derive(Clone)]
pub struct ConsoleState {
    services: AppState,
    own: Arc<Own>,
}

struct Own {
    renderer: Renderer,
    thumbnails: Thumbnails,
    login_limits: LoginLimits,
}

impl ConsoleState {
    /// The console's state over these services, with limits and renderer from their settings.
    pub fn new(services: AppState) -> ConsoleState {
        let settings = services.settings();
        let login_limits = LoginLimits {
            by_account: FailureLimiter::new(settings.login_failures_per_account, settings.login_window),
            by_address: FailureLimiter::new(settings.login_failures_per_address, settings.login_window),
        };
        let renderer = Renderer::new(settings.console.player.clone(), services.media_files().clone());
        let own = Own { renderer, thumbnails: Thumbnails::default(), login_limits };
        ConsoleState { services, own: Arc::new(own) }
    }

    pub(crate) fn login_limits(&self) -> &LoginLimits {
        &self.own.login_limits
    }

    /// Runs `palier-player render` for exact previews.
    pub fn renderer(&self) -> &Renderer {
        &self.own.renderer
    }

    /// Screens' pictures already drawn, by board, screen and generation.
    pub fn thumbnails(&self) -> &Thumbnails {
        &self.own.thumbnails
    }
}

impl std::fmt::Debug for ConsoleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleState").field("services", &self.services).finish_non_exhaustive()
    }
}

impl Deref for ConsoleState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.services
    }
}

impl FromRef<ConsoleState> for AppState {
    fn from_ref(console: &ConsoleState) -> AppState {
        console.services.clone()
    }
}
