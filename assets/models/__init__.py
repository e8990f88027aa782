"""Walk-forward training, model artifacts and the model registry."""
