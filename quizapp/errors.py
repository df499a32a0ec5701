"""The one kind of refusal the services raise: a message for the person and the HTTP
status a view answers with. Each service names its own subclass (AttemptError,
StudioError, SourceError, ExchangeError, RegradeError) so a view catches only its own."""

from __future__ import annotations


class ServiceError(Exception):
    """A request a service will not carry out; `str(error)` says why, for the person."""

    status = 409

    def __init__(self, message: str = "", status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status
