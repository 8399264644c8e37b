"""Exit codes, the same for every command, and the one message for a missing extra.

====  ======================================================================================
0     ok: the connection was fetched, the deployment conforms, nothing breaking
1     the deployment answered wrongly: a check failed, an API error, a breaking change
2     usage or configuration: a bad option value, an invalid URL, a missing extra, a
      malformed schema or snapshot, no connection to test, a URL that is not Label Studio
3     the endpoint is not served (a Label Studio without it: Community Edition)
4     the credentials were rejected (401, or 403: they may not view connections)
5     the deployment is unreachable: DNS, refused, TLS, a timeout before any answer
6     inconclusive: the deployment answered, but rate limits or a failing connection kept the
      run from finishing its checks within its deadline or budget
130   interrupted (Ctrl-C): the shell's convention, 128 + SIGINT
====  ======================================================================================
"""

from __future__ import annotations

from ls_model_providers import _errors

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_SERVED, EXIT_CREDENTIALS, EXIT_UNREACHABLE = range(6)
EXIT_INCONCLUSIVE = 6
#: Ctrl-C: 128 + SIGINT, what a shell reports for a command the signal ended.
EXIT_INTERRUPTED = 130


class ConfigurationError(Exception):
    """An option or environment value that cannot be used (exit 2); safe to print."""


def exit_code_for(error: _errors.LabelStudioError) -> int:
    """The exit code a client error means: 3 the endpoint is not served, 4 the credentials
    were rejected, 5 no answer at all (a timeout or a transport failure before any status),
    else 1 (the deployment answered, wrongly: a body cut off or a refused redirect included)."""
    if isinstance(error, _errors.EndpointNotAvailableError):
        return EXIT_NOT_SERVED
    if isinstance(error, _errors.AuthenticationError | _errors.PermissionDeniedError):
        return EXIT_CREDENTIALS
    no_answer = isinstance(error, _errors.APIConnectionError) and error.status_code is None
    if no_answer and (isinstance(error, _errors.APITimeoutError) or error.__cause__ is not None):
        return EXIT_UNREACHABLE
    return EXIT_FAILED


def missing_extra(extra: str, exc: ImportError | str) -> str:
    """The one message for a missing optional dependency, wherever it is found missing:
    ``exc`` is the ImportError, or the name of the module that is missing."""
    module = exc if isinstance(exc, str) else getattr(exc, "name", None) or str(exc)
    return (
        f"install the {extra} extra: pip install 'ls-model-providers[{extra}]' "
        f"(missing module: {module})"
    )


def require_extra(extra: str, exc: ImportError) -> ImportError:
    """The ImportError to raise for ``exc`` in a package that needs ``extra``: the one message,
    the missing module's ``name`` kept (so callers can still tell which one), or ``exc`` itself
    when what failed to import is this package's own code (a bug, not a missing extra)."""
    name = getattr(exc, "name", None) or ""
    if not name or name.split(".")[0] in ("ls_model_providers", "ls_model_providers_api"):
        return exc
    return ModuleNotFoundError(missing_extra(extra, name), name=name)
