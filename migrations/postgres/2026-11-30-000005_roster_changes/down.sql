DROP TABLE roster_changes;
