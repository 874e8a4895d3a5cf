"""A program that fails while it runs."""

import pulumi

pulumi.export("answer", 42)
raise ValueError("subnet count must be positive")
