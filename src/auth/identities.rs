//! Accounts' identities at OpenID providers (the `identities` table): which
//! account a single sign-on signs in to.
//!
//! An identity is the provider's (issuer, subject), never an email address
//! alone, since addresses change hands. The first sign-in with an identity
//! links it: to the account with the same email when the provider vouches
//! for the address (`email_verified`), so a person with a local account
//! keeps it; otherwise to a new learner account. Once linked, the identity
//! alone decides, whatever the email says later.

use sqlx::PgPool;

use crate::auth::oidc::ProviderIdentity;
use crate::auth::password::{self, NewPassword};
use crate::auth::secret;
use crate::auth::session;
use crate::auth::users::{self, DisplayName, Email, Role, User};

/// Why an identity could not be linked to an account.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The provider gave no usable email, which a new account needs.
    #[error("the identity provider gave no email address, which a new account needs")]
    NoEmail,
    /// An account has the email, but the provider does not vouch for it.
    #[error(
        "an account with the email {0} exists, and the identity provider does not say the address is verified: log in with that account's password"
    )]
    UnverifiedEmailTaken(String),
    /// The database (or hashing) failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for LinkError {
    fn from(error: sqlx::Error) -> Self {
        LinkError::Internal(error.into())
    }
}

/// The account `identity` signs in to, linking or creating it on the first
/// sign-in; the role claim, when configured, then sets its role (an admin
/// stays admin: that is for `lockstep user set-role`).
pub async fn sign_in(db: &PgPool, identity: &ProviderIdentity) -> Result<User, LinkError> {
    let mut user = match linked(db, identity).await? {
        Some(user) => user,
        None => link(db, identity).await?,
    };
    if let Some(role) = identity.role
        && user.role != Role::Admin
        && user.role != role
    {
        user = set_role(db, user.id, role).await?;
        tracing::info!(user_id = user.id, role = %role, "role set by the role claim");
    }
    Ok(user)
}

/// The account already linked to `identity`, noting the sign-in.
async fn linked(db: &PgPool, identity: &ProviderIdentity) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"WITH seen AS (
               UPDATE identities SET last_login_at = now()
                WHERE issuer = $1 AND subject = $2
            RETURNING user_id)
           SELECT u.id, u.email, u.display_name, u.role AS "role: Role"
             FROM users u JOIN seen ON seen.user_id = u.id"#,
        identity.issuer,
        identity.subject,
    )
    .fetch_optional(db)
    .await
}

/// Links `identity` to the account with its verified email, or to a new
/// learner account.
async fn link(db: &PgPool, identity: &ProviderIdentity) -> Result<User, LinkError> {
    let email = identity
        .email
        .as_deref()
        .and_then(|email| Email::parse(email).ok())
        .ok_or(LinkError::NoEmail)?;
    let existing = users::find_by_email(db, email.as_str()).await?;
    let user = match existing {
        Some(user) if identity.email_verified => user,
        Some(_) => return Err(LinkError::UnverifiedEmailTaken(email.as_str().into())),
        None => create_learner(db, identity, &email).await?,
    };
    // Two first sign-ins at once: the identity goes to whichever linked first.
    let linked_to = sqlx::query_scalar!(
        "WITH inserted AS (
             INSERT INTO identities (issuer, subject, user_id) VALUES ($1, $2, $3)
             ON CONFLICT (issuer, subject) DO NOTHING RETURNING user_id)
         SELECT user_id AS \"user_id!\" FROM inserted
         UNION ALL
         SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2",
        identity.issuer,
        identity.subject,
        user.id,
    )
    .fetch_one(db)
    .await?;
    if linked_to != user.id {
        return linked(db, identity)
            .await?
            .ok_or_else(|| LinkError::Internal(anyhow::anyhow!("a linked identity vanished")));
    }
    tracing::info!(user_id = user.id, issuer = %identity.issuer, "identity linked");
    Ok(user)
}

/// A learner account for `identity`, named by its `name` claim (else the
/// email's local part). Its password is a random secret nobody is told: the
/// account signs in through the provider (or sets a password by reset link).
async fn create_learner(
    db: &PgPool,
    identity: &ProviderIdentity,
    email: &Email,
) -> Result<User, LinkError> {
    let local_part = email.as_str().split('@').next().unwrap_or("learner");
    let name: String = identity
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(local_part)
        .chars()
        .filter(|c| !c.is_control())
        .take(DisplayName::MAX_LENGTH)
        .collect();
    let name = DisplayName::parse(&name)
        .or_else(|_| DisplayName::parse(local_part))
        .map_err(|e| anyhow::anyhow!("no display name from the claims: {e}"))?;
    let unusable = NewPassword::parse(&secret::random_token()).map_err(anyhow::Error::msg)?;
    let hash = password::hash(&unusable).await?;
    match users::create(db, email, &name, &hash, Role::Learner).await {
        Ok(user) => Ok(user),
        // Created by a concurrent sign-in with the same email a moment ago.
        Err(users::CreateError::EmailTaken) if identity.email_verified => {
            users::find_by_email(db, email.as_str())
                .await?
                .ok_or_else(|| LinkError::Internal(anyhow::anyhow!("an account vanished")))
        }
        Err(users::CreateError::EmailTaken) => {
            Err(LinkError::UnverifiedEmailTaken(email.as_str().into()))
        }
        Err(users::CreateError::Database(error)) => Err(error.into()),
    }
}

/// Sets the role of account `id` and tells every web node (its cached
/// sessions carry the old role).
async fn set_role(db: &PgPool, id: i64, role: Role) -> Result<User, sqlx::Error> {
    let mut tx = db.begin().await?;
    let user = sqlx::query_as!(
        User,
        r#"UPDATE users SET role = $2 WHERE id = $1
           RETURNING id, email, display_name, role AS "role: Role""#,
        id,
        role as Role,
    )
    .fetch_one(&mut *tx)
    .await?;
    session::announce_credentials_changed(&mut tx, id).await?;
    tx.commit().await?;
    Ok(user)
}
