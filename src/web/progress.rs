//! `GET /dashboard`: the learner's progress through the programme.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Router, middleware};

use crate::curriculum::{Item, Module};
use crate::progress::summary::{self, LearnerProgress, ModuleProgress};
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::learn::{SidebarItem, sidebar};
use crate::web::templates::{Layout, render};

/// The dashboard route (signed-in only).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route_layer(middleware::from_fn(crate::web::require_signed_in))
}

/// A module as the dashboard shows it.
pub struct ModuleCard<'a> {
    /// The module.
    pub module: &'a Module,
    /// How much of it is done.
    pub progress: ModuleProgress,
    /// Its items with the learner's marks.
    pub items: Vec<SidebarItem>,
}

/// `GET /dashboard`.
#[derive(Template)]
#[template(path = "learn/dashboard.html")]
pub struct DashboardPage<'a> {
    layout: Layout,
    name: String,
    modules: Vec<ModuleCard<'a>>,
    next: Option<&'a Item>,
    next_module: Option<&'a Module>,
    done: usize,
    total: usize,
    minutes_done: u32,
    streak: u32,
    badges: usize,
}

/// `GET /dashboard`: each module's completion and badge, the next thing to
/// do, the streak of active days and the material covered.
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    let progress = LearnerProgress::load(&state.db, user.id).await?;
    let programme = &state.programme;
    let modules: Vec<ModuleCard> = programme
        .modules
        .iter()
        .map(|module| ModuleCard {
            module,
            progress: progress.module(module),
            items: sidebar(module, Some(&progress), ""),
        })
        .collect();
    let next = progress.next(programme);
    let next_module = next.and_then(|item| {
        let module_id = match item {
            Item::Lesson(lesson) => &lesson.module_id,
            Item::Exercise(exercise) => &exercise.module_id,
        };
        programme.module(module_id)
    });
    let page = DashboardPage {
        layout: Layout::new(&state, "Your progress"),
        name: user.display_name.to_string(),
        done: modules.iter().map(|card| card.progress.done).sum(),
        total: modules.iter().map(|card| card.progress.total).sum(),
        minutes_done: modules.iter().map(|card| card.progress.minutes_done).sum(),
        badges: modules
            .iter()
            .filter(|card| card.progress.is_complete())
            .count(),
        streak: summary::streak_days(&state.db, user.id).await?,
        modules,
        next,
        next_module,
    };
    Ok(Html(render(&page)?))
}
