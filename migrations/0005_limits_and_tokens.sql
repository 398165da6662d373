-- Throttle counters shared by every web node (log-in and sign-up attempts):
-- one row per key, counting attempts in a fixed window. A row is incremented
-- atomically before the attempt is judged, so parallel attempts are counted
-- exactly; rows of long-finished windows are swept now and then.
CREATE TABLE throttle_counters (
    key               TEXT PRIMARY KEY,
    window_started_at TIMESTAMPTZ NOT NULL,
    attempts          INTEGER NOT NULL
);
CREATE INDEX throttle_counters_window ON throttle_counters (window_started_at);

-- What an API token may do ('read': GET requests only, such as exports;
-- 'submit': also hand in code and change things), and when it stops working.
-- Tokens made before scopes existed could do everything, so they keep 'submit'.
ALTER TABLE api_tokens
    ADD COLUMN scope TEXT NOT NULL DEFAULT 'submit' CHECK (scope IN ('read', 'submit')),
    ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ALTER COLUMN scope DROP DEFAULT;
