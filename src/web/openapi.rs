//! The OpenAPI description of the learner's JSON API (`GET
//! /api/openapi.json`), generated from the handlers' `#[utoipa::path]`
//! attributes so it cannot drift from the routes.
//!
//! It covers what an API token of a learner may do, the API `lockstep
//! learn` uses: a `read` token may make every `GET`, a `submit` token also
//! hands in work (submissions, drafts, hints). Tokens are made on
//! `/account` in a browser; no request made with a token can make one.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::{drafts, events, learn, review, submissions, workspace};

/// The learner API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lockstep learner API",
        description = "What a learner's API token may do: download exercises, follow progress, save drafts, reveal hints, submit work and follow it to a verdict. Send `Authorization: Bearer lst_…`; a token's scope is `read` (GET only) or `submit` (also POST and PUT)."
    ),
    paths(
        workspace::workspace,
        workspace::hints,
        workspace::progress,
        learn::reveal_hint_api,
        drafts::show,
        drafts::save,
        submissions::submit,
        submissions::show,
        review::hand_in,
        review::latest,
        review::show,
        events::stream,
    ),
    modifiers(&ApiToken),
    tags(
        (name = "learn", description = "Exercises as Cargo projects, hints and progress"),
        (name = "drafts", description = "The learner's draft of an exercise, with optimistic locking"),
        (name = "grading", description = "Submissions and their live progress"),
        (name = "review", description = "Code reviews: mark lines of a pull request, get the score and the key"),
    )
)]
pub struct LearnerApi;

/// The `api_token` security scheme: a bearer token (`lst_…`).
struct ApiToken;

impl Modify for ApiToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lst_…")
                    .description(Some(
                        "A personal API token from /account; scope `read` or `submit`",
                    ))
                    .build(),
            ),
        );
    }
}

/// `GET /api/openapi.json`: the description, public (it holds no secrets,
/// and clients read it before they have a token).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(LearnerApi::openapi())
}
