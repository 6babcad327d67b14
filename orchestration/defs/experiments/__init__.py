"""Experiments stage: the serving events and each experiment's analysis (and canary rollout)."""
