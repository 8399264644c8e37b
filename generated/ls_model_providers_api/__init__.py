"""A client library for accessing Label Studio Enterprise - model provider connections (fragment)"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
