"""Grafana dashboards as code (``panels.py``) and their provisioning JSON (``dashboards/``)."""
