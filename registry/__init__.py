"""The model registry: MLflow versions with lineage, the quality gate, aliases and loading.

from registry import load_model
model = load_model("nlu")                 # the champion, cached
model = load_model("nlg", version="3")    # one version
"""

from registry.errors import RegistryError
from registry.loading import load_model, resolve

__all__ = ["RegistryError", "load_model", "resolve"]
