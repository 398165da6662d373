-- Single sign-on with OpenID Connect (src/auth/oidc.rs, src/auth/identities.rs).

-- An account's identities at OpenID providers: (issuer, subject) is how a
-- provider names a person for good (an email address may change hands).
CREATE TABLE identities (
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX identities_user_id ON identities (user_id);

-- Sign-ins sent to the provider and not yet back: what the callback needs
-- to finish one (the nonce the ID token must carry, the PKCE verifier) and
-- where to go after. Keyed by a digest of the `state` parameter; one use,
-- ten minutes.
CREATE TABLE oidc_sign_ins (
    state_digest  TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path     TEXT NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_sign_ins_expires_at ON oidc_sign_ins (expires_at);
