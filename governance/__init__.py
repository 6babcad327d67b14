"""Governance: how long each layer keeps personal data, and enforcing it."""
