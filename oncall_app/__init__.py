"""The Reflex UI: pages and states that call backend services (never the database)."""
