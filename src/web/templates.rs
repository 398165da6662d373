//! Page templates (askama, in `templates/`) and what every page shares.

use askama::Template;

use crate::curriculum::{Item, Module, Programme};
use crate::web::AppState;

/// What the base layout needs on every page.
pub struct Layout {
    /// The `<title>`.
    pub title: String,
    /// Fingerprinted stylesheet URL.
    pub stylesheet: String,
    /// Fingerprinted script URL.
    pub script: String,
    /// Who is signed in, for the header (taken from the request being handled).
    pub user: Option<crate::auth::User>,
    /// The CSRF token every form on the page carries (also in a `<meta>` for scripts).
    pub csrf_token: String,
    /// Whether "Sign up" is offered (not with `--sso-only`).
    pub sign_up: bool,
}

impl Layout {
    /// The layout for a page titled `title`, for the visitor of the request
    /// being handled (see [`crate::web::visitor`]).
    pub fn new(state: &AppState, title: &str) -> Self {
        let visitor = crate::web::visitor::current().unwrap_or_default();
        Self {
            user: visitor.user,
            csrf_token: visitor.csrf_token,
            title: title.to_string(),
            stylesheet: state.assets.url("style.css"),
            script: state.assets.url("app.js"),
            sign_up: state.sign_in.local_passwords(),
        }
    }
}

/// Renders a template to a string.
pub fn render(template: &impl Template) -> askama::Result<String> {
    template.render()
}

/// `GET /`: the programme catalogue.
#[derive(Template)]
#[template(path = "catalogue.html")]
pub struct CataloguePage<'a> {
    /// The page's frame.
    pub layout: Layout,
    /// What the catalogue lists.
    pub programme: &'a Programme,
}

/// `GET /modules/{module}`.
#[derive(Template)]
#[template(path = "module.html")]
pub struct ModulePage<'a> {
    /// The page's frame.
    pub layout: Layout,
    /// The module shown.
    pub module: &'a Module,
}

/// Any error, as a page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The page's frame.
    pub layout: Layout,
    /// The HTTP status answered.
    pub status: u16,
    /// What went wrong, for the reader.
    pub message: String,
}
