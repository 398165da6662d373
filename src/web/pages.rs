//! The programme's public pages: catalogue and modules (lessons and
//! exercises are the learner's pages, in [`crate::web::learn`]).

use axum::extract::{Path, State};
use axum::response::Html;

use crate::curriculum::{Exercise, Item, Module};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::templates::{CataloguePage, Layout, ModulePage, render};

/// `GET /`
pub async fn catalogue(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let page = CataloguePage {
        layout: Layout::new(&state, "Programme"),
        programme: &state.programme,
    };
    Ok(Html(render(&page)?))
}

/// `GET /modules/{module}`
pub async fn module(
    State(state): State<AppState>,
    Path(module_id): Path<String>,
) -> Result<Html<String>, AppError> {
    let module = state
        .programme
        .module(&module_id)
        .ok_or(AppError::NotFound)?;
    let page = ModulePage {
        layout: Layout::new(&state, &module.title),
        module,
    };
    Ok(Html(render(&page)?))
}

/// The module of `exercise` and the items before and after it in the
/// programme (404 if the programme no longer places it).
pub(crate) fn exercise_place<'a>(
    state: &'a AppState,
    exercise: &Exercise,
) -> Result<(&'a Module, Option<&'a Item>, Option<&'a Item>), AppError> {
    let module = state
        .programme
        .module(&exercise.module_id)
        .ok_or(AppError::NotFound)?;
    let position = module
        .items
        .iter()
        .position(|item| matches!(item, Item::Exercise(e) if e.id == exercise.id))
        .ok_or(AppError::NotFound)?;
    let (previous, next) = neighbours(state, module, position);
    Ok((module, previous, next))
}

/// The items before and after `position`, crossing into neighbouring modules.
pub(crate) fn neighbours<'a>(
    state: &'a AppState,
    module: &'a Module,
    position: usize,
) -> (Option<&'a Item>, Option<&'a Item>) {
    let modules = &state.programme.modules;
    let index = module.number - 1;
    let previous = match position {
        0 => index.checked_sub(1).and_then(|i| modules[i].items.last()),
        p => module.items.get(p - 1),
    };
    let next = module
        .items
        .get(position + 1)
        .or_else(|| modules.get(index + 1).and_then(|m| m.items.first()));
    (previous, next)
}
