"""The code MLflow keeps in each VoiceOps model (``python_model.py``) and runs to load it:
the family's :class:`registry.pyfunc.VoiceOpsModel`, told its family by the model config."""

from mlflow.models import set_model

from registry.pyfunc import VoiceOpsModel

set_model(VoiceOpsModel())
