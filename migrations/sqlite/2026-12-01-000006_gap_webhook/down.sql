DROP TABLE gap_webhook_outbox;
DROP TABLE gap_webhook_state;
DROP TABLE leases;
