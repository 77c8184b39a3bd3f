-- The first schema. Ids of ActivityPub things are their IRIs; times are Unix seconds (REAL).

CREATE TABLE local_actors (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'instance')),
    type TEXT NOT NULL DEFAULT 'Person',
    display_name TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    manually_approves INTEGER NOT NULL DEFAULT 0,
    discoverable INTEGER NOT NULL DEFAULT 1,
    rsa_private_pem TEXT NOT NULL,
    rsa_public_pem TEXT NOT NULL,
    ed25519_private_pem TEXT NOT NULL,
    also_known_as TEXT NOT NULL DEFAULT '[]',
    moved_to TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE remote_actors (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    preferred_username TEXT,
    domain TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    followers TEXT,
    url TEXT,
    document TEXT NOT NULL,
    moved_to TEXT,
    fetched_at REAL NOT NULL,
    deleted_at REAL
);
CREATE INDEX remote_actors_domain ON remote_actors (domain);
CREATE INDEX remote_actors_handle ON remote_actors (preferred_username, domain);

CREATE TABLE remote_keys (
    key_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'pem' CHECK (kind IN ('pem', 'multikey')),
    material TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE INDEX remote_keys_owner ON remote_keys (owner);

CREATE TABLE follows (
    follower TEXT NOT NULL,
    followee TEXT NOT NULL,
    activity_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at REAL NOT NULL,
    PRIMARY KEY (follower, followee)
);
CREATE INDEX follows_followee ON follows (followee, state);

CREATE TABLE objects (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    attributed_to TEXT,
    local INTEGER NOT NULL DEFAULT 0,
    visibility TEXT NOT NULL DEFAULT 'public',
    in_reply_to TEXT,
    conversation TEXT,
    document TEXT NOT NULL,
    published REAL,
    updated REAL,
    deleted_at REAL,
    created_at REAL NOT NULL
);
CREATE INDEX objects_author ON objects (attributed_to, published);
CREATE INDEX objects_reply ON objects (in_reply_to);

CREATE TABLE object_edits (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    object_id TEXT NOT NULL,
    document TEXT NOT NULL,
    replaced_at REAL NOT NULL
);
CREATE INDEX object_edits_object ON object_edits (object_id);

CREATE TABLE activities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    actor TEXT NOT NULL,
    type TEXT NOT NULL,
    object_id TEXT,
    local INTEGER NOT NULL DEFAULT 0,
    visibility TEXT NOT NULL DEFAULT 'public',
    document TEXT NOT NULL,
    published REAL NOT NULL
);
CREATE INDEX activities_actor ON activities (actor, local, seq);

CREATE TABLE inbox_activities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    signer TEXT,
    inbox TEXT NOT NULL,
    document TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'applied', 'failed', 'unsupported', 'dropped', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX inbox_activities_due ON inbox_activities (state, next_attempt_at);

CREATE TABLE inbox_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_name TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    UNIQUE (actor_name, activity_id)
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    response_excerpt TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);

CREATE TABLE hosts (
    host TEXT PRIMARY KEY,
    failure_days TEXT NOT NULL DEFAULT '[]',
    unavailable INTEGER NOT NULL DEFAULT 0,
    signature_scheme TEXT,
    last_success_at REAL
);

CREATE TABLE reactions (
    actor TEXT NOT NULL,
    object_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'emoji')),
    content TEXT NOT NULL DEFAULT '',
    activity_id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    PRIMARY KEY (actor, object_id, kind, content)
);
CREATE INDEX reactions_object ON reactions (object_id, kind);

CREATE TABLE shares (
    activity_id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    object_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (actor, object_id)
);
CREATE INDEX shares_object ON shares (object_id);

CREATE TABLE blocks (
    blocker TEXT NOT NULL,
    blocked TEXT NOT NULL,
    activity_id TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (blocker, blocked)
);

CREATE TABLE domain_blocks (
    domain TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);

CREATE TABLE notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_actor TEXT NOT NULL,
    object_id TEXT,
    activity_id TEXT,
    created_at REAL NOT NULL,
    UNIQUE (actor_name, kind, activity_id)
);

CREATE TABLE timeline (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_name TEXT NOT NULL,
    object_id TEXT NOT NULL,
    boosted_by TEXT,
    activity_id TEXT,
    created_at REAL NOT NULL,
    UNIQUE (actor_name, object_id, boosted_by)
);

CREATE TABLE reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id TEXT NOT NULL UNIQUE,
    reporter TEXT NOT NULL,
    targets TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);

CREATE TABLE featured (
    actor TEXT NOT NULL,
    object_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (actor, object_id)
);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    actor_name TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    revoked_at REAL
);

CREATE TABLE relays (
    url TEXT PRIMARY KEY,
    inbox TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    follow_activity_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
