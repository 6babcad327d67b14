"""The contact-center simulator: deterministic days of CRM data, call exports and recordings."""
