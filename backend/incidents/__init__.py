"""Incidents: what responders act on. Grown by the incidents issue; ingestion opens them."""
