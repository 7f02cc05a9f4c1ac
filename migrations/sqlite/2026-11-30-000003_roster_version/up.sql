-- One row counting committed writes: replicas compare it with the version of their snapshot.
CREATE TABLE roster_version (
    id INTEGER PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO roster_version (id, version) VALUES (1, 0);
