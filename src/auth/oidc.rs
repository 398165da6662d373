//! Single sign-on with OpenID Connect: the authorization code flow with PKCE
//! against the operator's provider (`--oidc-issuer`), with the `openidconnect`
//! crate over the reqwest client Lockstep already has.
//!
//! The provider is discovered once, at start-up (its metadata and signing
//! keys); a provider that cannot be reached stops the start with a message
//! saying so. A sign-in is two requests: [`SingleSignOn::begin`] makes the
//! provider's URL with a fresh `state`, nonce and PKCE challenge and keeps
//! what the return needs in `oidc_sign_ins` (one use, [`SIGN_IN_LIFETIME`]);
//! [`SingleSignOn::finish`] takes that row back by its `state`, exchanges the
//! code (with the PKCE verifier), verifies the ID token (signature by the
//! provider's keys, issuer, audience, expiry, nonce, access-token hash) and
//! reads the person's claims. An ID token signed with a key the provider did
//! not publish at start-up has the keys fetched again (the provider rotated
//! them) and is checked once more. What the account is made of from them is
//! [`crate::auth::identities`]' business.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    JsonWebKeySet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, SignatureVerificationError, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::auth::secret;
use crate::auth::users::Role;
use crate::config::SingleSignOnSettings;

/// How long a sign-in sent to the provider may take to come back.
pub const SIGN_IN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The path of the callback, below `--public-url`.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// How long one request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The client, as discovery leaves it: an authorization endpoint for sure,
/// token and user-info endpoints if the provider named them.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A configured OpenID provider.
pub struct SingleSignOn {
    /// Rebuilt with fresh keys when the provider rotates them.
    client: std::sync::RwLock<Client>,
    /// As discovered (the keys' URL; the client is rebuilt from it).
    metadata: CoreProviderMetadata,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    http: ProviderHttp,
    /// The issuer, as the provider names itself (identities are keyed by it).
    pub issuer: String,
    /// The log-in button's label ("Log in with …").
    pub name: String,
    /// Local passwords are off: log-in, sign-up and reset are refused.
    pub sso_only: bool,
    role_claim: Option<String>,
    instructor_value: String,
}

impl std::fmt::Debug for SingleSignOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleSignOn")
            .field("issuer", &self.issuer)
            .field("name", &self.name)
            .field("sso_only", &self.sso_only)
            .finish_non_exhaustive()
    }
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct ProviderIdentity {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The provider's lasting id of the person (`sub`).
    pub subject: String,
    /// `email`, if given.
    pub email: Option<String>,
    /// `email_verified` is true: the provider vouches for the address.
    pub email_verified: bool,
    /// `name`, if given.
    pub name: Option<String>,
    /// The role the role claim gives (`None`: no role claim configured).
    pub role: Option<Role>,
}

/// Why a sign-in could not be finished.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No sign-in with this `state` is waiting (forged, replayed or expired).
    #[error("this sign-in is unknown or expired: start again")]
    UnknownState,
    /// The provider refused or answered something that does not verify.
    #[error("the identity provider's answer was refused: {0}")]
    Provider(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The claims Lockstep reads from the user-info response besides the
/// standard ones: any, since the role claim's name is configured.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

impl SingleSignOn {
    /// Discovers the provider named by `settings` (`None` when no issuer is
    /// configured); `public_url` is where the provider sends people back.
    pub async fn discover(
        settings: &SingleSignOnSettings,
        public_url: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(issuer) = &settings.oidc_issuer else {
            anyhow::ensure!(
                !settings.sso_only,
                "--sso-only needs single sign-on: set --oidc-issuer too"
            );
            return Ok(None);
        };
        let Some(public_url) = public_url else {
            anyhow::bail!(
                "--oidc-issuer needs --public-url: the provider sends people back to {CALLBACK_PATH} there"
            );
        };
        let Some(client_id) = &settings.oidc_client_id else {
            anyhow::bail!(
                "--oidc-issuer needs --oidc-client-id (and usually --oidc-client-secret)"
            );
        };
        let issuer_url = IssuerUrl::new(issuer.trim_end_matches('/').to_string())
            .with_context(|| format!("--oidc-issuer {issuer:?} is not a URL"))?;
        let http = ProviderHttp::new()?;
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &http)
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "the OpenID provider {issuer} cannot be discovered \
                     ({issuer}/.well-known/openid-configuration): {}",
                    error_chain(&error)
                )
            })?;
        anyhow::ensure!(
            metadata.token_endpoint().is_some(),
            "the OpenID provider {issuer} names no token endpoint: the authorization code flow needs one"
        );
        let discovered_issuer = metadata.issuer().to_string();
        let redirect = RedirectUrl::new(format!("{public_url}{CALLBACK_PATH}"))
            .context("--public-url does not make a callback URL")?;
        let client_id = ClientId::new(client_id.clone());
        let client_secret = settings.oidc_client_secret.clone().map(ClientSecret::new);
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            client_id.clone(),
            client_secret.clone(),
        )
        .set_redirect_uri(redirect.clone());
        let name = settings.oidc_name.trim();
        Ok(Some(Self {
            issuer: discovered_issuer,
            client: std::sync::RwLock::new(client),
            metadata,
            client_id,
            client_secret,
            redirect,
            http,
            name: if name.is_empty() {
                "single sign-on".to_string()
            } else {
                name.to_string()
            },
            sso_only: settings.sso_only,
            role_claim: settings.oidc_role_claim.clone(),
            instructor_value: settings.oidc_instructor_value.clone(),
        }))
    }

    /// Starts a sign-in that returns to `next`: the provider's URL to send
    /// the browser to, and the `state` it will come back with (which the
    /// caller also binds to the browser).
    pub async fn begin(&self, db: &PgPool, next: &str) -> Result<(String, String), sqlx::Error> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client()
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let state = state.secret().clone();
        let mut tx = db.begin().await?;
        // Abandoned sign-ins go on the way (there is one row per attempt).
        sqlx::query!("DELETE FROM oidc_sign_ins WHERE expires_at <= now()")
            .execute(&mut *tx)
            .await?;
        sqlx::query!(
            "INSERT INTO oidc_sign_ins (state_digest, nonce, pkce_verifier, next_path, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
            secret::digest(&state),
            nonce.secret(),
            verifier.secret(),
            next,
            SIGN_IN_LIFETIME.as_secs_f64(),
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((url.to_string(), state))
    }

    /// Finishes the sign-in that `state` names with the provider's `code`:
    /// the person's verified identity, and where to go next.
    pub async fn finish(
        &self,
        db: &PgPool,
        state: &str,
        code: &str,
    ) -> Result<(ProviderIdentity, String), SignInError> {
        // Taken, not read: a state works once.
        let pending = sqlx::query!(
            "DELETE FROM oidc_sign_ins WHERE state_digest = $1 AND expires_at > now()
             RETURNING nonce, pkce_verifier, next_path",
            secret::digest(state),
        )
        .fetch_optional(db)
        .await?
        .ok_or(SignInError::UnknownState)?;
        let refused = |what: &str, error: &dyn std::error::Error| {
            SignInError::Provider(format!("{what}: {}", error_chain(error)))
        };
        let mut client = self.client();
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| refused("no token endpoint", &e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| refused("the code exchange failed", &e))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| SignInError::Provider("the provider sent no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce);
        let unknown_key = matches!(
            id_token.claims(&client.id_token_verifier(), &nonce),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
            ))
        );
        if unknown_key {
            client = self.refresh_keys().await?;
        }
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| refused("the ID token does not verify", &e))?;
        // The access token (used for the user-info request) is the one this
        // ID token was issued with.
        if let Some(expected) = claims.access_token_hash() {
            let algorithm = id_token
                .signing_alg()
                .map_err(|e| refused("the ID token's algorithm", &e))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| refused("the ID token's key", &e))?;
            let actual = AccessTokenHash::from_token(token.access_token(), algorithm, key)
                .map_err(|e| refused("the access token's hash", &e))?;
            if actual != *expected {
                return Err(SignInError::Provider(
                    "the access token does not match the ID token".into(),
                ));
            }
        }
        let mut identity = ProviderIdentity {
            issuer: self.issuer.clone(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|email| email.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|name| name.get(None))
                .map(|name| name.to_string()),
            role: None,
        };
        // The user-info response fills in what the ID token left out (many
        // providers put only `sub` there) and carries the role claim; the
        // crate checks that it is about the same subject.
        if let Ok(request) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        {
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                .request_async(&self.http)
                .await
                .map_err(|e| refused("the user-info request failed", &e))?;
            if identity.email.is_none() {
                identity.email = info.email().map(|email| email.to_string());
                identity.email_verified = info.email_verified().unwrap_or(false);
            }
            if identity.name.is_none() {
                identity.name = info
                    .name()
                    .and_then(|name| name.get(None))
                    .map(|name| name.to_string());
            }
            if let Some(claim) = &self.role_claim {
                identity.role = Some(self.role_from(info.additional_claims().claims.get(claim)));
            }
        } else if self.role_claim.is_some() {
            return Err(SignInError::Provider(
                "the provider has no user-info endpoint to read the role claim from".into(),
            ));
        }
        Ok((identity, pending.next_path))
    }

    /// The client as it stands (cheap to clone; the lock is never held
    /// across an `.await`).
    fn client(&self) -> Client {
        self.client
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Fetches the provider's signing keys again and rebuilds the client
    /// with them.
    async fn refresh_keys(&self) -> Result<Client, SignInError> {
        let keys = JsonWebKeySet::fetch_async(self.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| {
                SignInError::Provider(format!(
                    "the provider's signing keys cannot be fetched: {}",
                    error_chain(&e)
                ))
            })?;
        tracing::info!(issuer = %self.issuer, "the OpenID provider's signing keys fetched again");
        let client = CoreClient::from_provider_metadata(
            self.metadata.clone().set_jwks(keys),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        *self
            .client
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = client.clone();
        Ok(client)
    }

    /// Instructor when the role claim (a string or a list of strings)
    /// holds `--oidc-instructor-value`, learner otherwise.
    fn role_from(&self, claim: Option<&serde_json::Value>) -> Role {
        let holds = |value: &serde_json::Value| value.as_str() == Some(&self.instructor_value);
        let instructor = match claim {
            Some(serde_json::Value::Array(values)) => values.iter().any(holds),
            Some(value) => holds(value),
            None => false,
        };
        if instructor {
            Role::Instructor
        } else {
            Role::Learner
        }
    }
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The HTTP client `openidconnect` talks to the provider with: reqwest, not
/// following redirects (a redirect from the provider's endpoints is not
/// taken on trust), with a timeout.
struct ProviderHttp(reqwest::Client);

/// A failed request to the provider.
#[derive(Debug, thiserror::Error)]
enum ProviderHttpError {
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    #[error(transparent)]
    Response(#[from] openidconnect::http::Error),
}

impl ProviderHttp {
    fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .context("an HTTP client for the OpenID provider")?;
        Ok(Self(client))
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.execute(request.try_into()?).await?;
            let mut builder = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            Ok(builder.body(response.bytes().await?.to_vec())?)
        })
    }
}
