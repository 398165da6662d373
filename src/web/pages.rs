//! The programme's public pages: catalogue, modules, lessons, exercises.

use axum::extract::{Path, State};
use axum::response::Html;

use crate::app::AppState;
use crate::curriculum::highlight::highlight;
use crate::curriculum::{Item, Module};
use crate::web::error::AppError;
use crate::web::templates::{CataloguePage, ExercisePage, Layout, LessonPage, ModulePage, render};

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

/// `GET /lessons/{module}/{lesson}`
pub async fn lesson(
    State(state): State<AppState>,
    Path((module_id, lesson_id)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    let module = state
        .programme
        .module(&module_id)
        .ok_or(AppError::NotFound)?;
    let position = module
        .items
        .iter()
        .position(|item| matches!(item, Item::Lesson(lesson) if lesson.id == lesson_id))
        .ok_or(AppError::NotFound)?;
    let Item::Lesson(lesson) = &module.items[position] else {
        return Err(AppError::NotFound);
    };
    let (previous, next) = neighbours(&state, module, position);
    let page = LessonPage {
        layout: Layout::new(&state, &lesson.title),
        module,
        lesson,
        current_url: format!("/lessons/{module_id}/{lesson_id}"),
        previous,
        next,
    };
    Ok(Html(render(&page)?))
}

/// `GET /exercises/{exercise}`
pub async fn exercise(
    State(state): State<AppState>,
    Path(exercise_id): Path<String>,
) -> Result<Html<String>, AppError> {
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    let module = state
        .programme
        .module(&exercise.module_id)
        .ok_or(AppError::NotFound)?;
    let page = ExercisePage {
        layout: Layout::new(&state, &exercise.title),
        module,
        exercise,
        current_url: format!("/exercises/{exercise_id}"),
        starter_html: highlight("rust", &exercise.starter),
        visible_tests_html: highlight("rust", &exercise.visible_tests),
    };
    Ok(Html(render(&page)?))
}

/// The items before and after `position`, crossing into neighbouring modules.
fn neighbours<'a>(
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
