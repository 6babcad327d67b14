"""The loop layer: experiment specs (YAML) and GrowthBook-compatible assignment of users to
arms of registry model versions."""
