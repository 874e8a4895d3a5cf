"""A declared model's scheduled retraining: its SageMaker Pipelines definition and a local step-by-step run."""
