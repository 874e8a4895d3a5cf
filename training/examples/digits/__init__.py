"""The digits example: an MLP classifier on CSV channels, written as any team's entry point would be.

Run by the runtime as the default entry point (``train``), or explicitly as the module
``training.examples.digits``; as a source bundle, ship ``training/examples/`` and name ``digits``.
Its modules import each other relatively and the runtime's helpers from ``training``.
"""
