"""Monitoring: what the platform measures about itself (pipeline metrics computed from its own
records, the failed-run log), beside the alert rules and dashboards that read them."""
