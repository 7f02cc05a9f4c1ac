DROP TABLE time_off_history;
DROP TABLE shifts_history;
DROP TABLE location_changes_history;
DROP TABLE agents_history;
DROP TABLE consents_history;
DROP TABLE orgs_history;
DROP TABLE roster_commits;
