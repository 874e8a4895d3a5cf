"""A program that never finishes."""

import threading

threading.Event().wait()
