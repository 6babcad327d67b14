"""Hyperparameter tuning from Katib ``Experiment`` manifests, run locally with Optuna.

A spec is a Katib manifest (``apiVersion: kubeflow.org/v1beta1``, ``kind: Experiment``):
:mod:`tuning.spec` validates it, :mod:`tuning.template` reads the family and the config
fields its trial template sets, :mod:`tuning.space` and :mod:`tuning.algorithms` turn its
parameters, algorithm and early stopping into Optuna's, :mod:`tuning.runner` runs the trials
(each one a training run of the family, tracked in MLflow by :mod:`tuning.tracking`) under
Katib's stop rules (:mod:`tuning.status`), :mod:`tuning.proposal` writes the best trial as a
config change for review, and :mod:`tuning.render` writes the manifest for a Kubeflow cluster.
"""
