-- Leases: which replica does a job that exactly one may do at a time (delivering the gap
-- webhook). A replica holds a lease until it expires, judged by the database's clock, and renews
-- it well before; another may take it only once it has expired, and then its term goes up by one.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    term BIGINT NOT NULL,
    -- Microseconds since the epoch, UTC, by the database's clock.
    expires_at BIGINT NOT NULL
);

-- What the gap webhook last told its receiver: the gaps of each configured requirement as of
-- one look (JSON written and read by the service), so a new leader carries on from there.
CREATE TABLE gap_webhook_state (
    name TEXT PRIMARY KEY NOT NULL,
    roster_version BIGINT NOT NULL,
    looked_at BIGINT NOT NULL,
    gaps TEXT NOT NULL
);

-- Gap events waiting to be delivered, oldest first; each is deleted once the receiver took it.
-- The event ID is the one the receiver sees, the same on every retry and from every leader.
CREATE TABLE gap_webhook_outbox (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    created_at BIGINT NOT NULL,
    -- The event as JSON, written and read by the service.
    payload TEXT NOT NULL
);
