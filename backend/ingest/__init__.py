"""Alert ingestion: integrations, webhook parsing, the delivery log, alerts and grouping."""
