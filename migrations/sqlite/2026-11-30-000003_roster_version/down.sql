DROP TABLE roster_version;
