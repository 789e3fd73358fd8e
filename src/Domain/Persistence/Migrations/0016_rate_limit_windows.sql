-- Request counters shared by every API instance: one row per bucket (org, user or client address) and one-minute window,
-- bumped by a single upsert per request. Unlogged: a counter lost in a crash only forgives part of a minute.
CREATE UNLOGGED TABLE rate_limit_windows (
    bucket       text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
