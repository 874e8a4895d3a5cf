"""PyTorch training runtime on the SageMaker training container contract (`train`, `python -m training`)."""
