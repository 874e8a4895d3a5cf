"""Example user code for the training runtime (each subpackage is one entry point)."""
