"""The code location per stage: each stage folder has its assets and a small ``definitions.py``."""
