DROP TABLE time_off;
DROP TABLE shifts;
DROP TABLE location_changes;
DROP TABLE agents;
DROP TABLE consents;
DROP TABLE orgs;
