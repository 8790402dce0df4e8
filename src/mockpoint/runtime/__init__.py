"""The async edge that drives the sans-I/O core over a transport."""

from mockpoint.runtime.endpoint import Endpoint, FrameObserver, RequestHandler

__all__ = ["Endpoint", "FrameObserver", "RequestHandler"]
