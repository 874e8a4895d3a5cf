"""Errors that map to HTTP statuses; hooks in `code/inference.py` may raise them too.

A hook raising a plain `ValueError` is treated as bad input (400); anything else unexpected is a
server error (500). These subclasses pick a more precise status.
"""

from __future__ import annotations


class ServingError(Exception):
    """An error with an HTTP status and a message safe to return to the client."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class BadRequest(ServingError, ValueError):
    """Malformed or invalid input (400)."""

    status = 400


class UnsupportedContentType(ServingError, ValueError):
    """The request's Content-Type cannot be decoded (415)."""

    status = 415


class UnsupportedAccept(ServingError, ValueError):
    """None of the media types in Accept can be produced (406)."""

    status = 406


class PayloadTooLarge(ServingError):
    """The request body exceeds the configured limit (413)."""

    status = 413


class ModelNotReady(ServingError):
    """The model is still loading or failed to load (503)."""

    status = 503
