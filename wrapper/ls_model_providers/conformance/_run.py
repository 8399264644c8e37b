"""A conformance run: check the configuration, find the target, preflight, the checks, the verdict.

``run`` never raises for what a deployment does: every way a run can end is a ``Report``
with an exit code (``cli._shared``) and, when that code is not 0, at least one failing
result saying why. Only a configuration it cannot use is an exception (``UsageError``),
raised before any request; and Ctrl-C, which ends the run and raises ``Interrupted`` (a
``KeyboardInterrupt``) carrying the report of what was found until then.

Text a server controls never holds a line break in a report: each summary, detail, verdict
and reproduction is one line (``one_line``), so no server can forge a line of the output.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import httpx

from ls_model_providers._args import check_connection_id
from ls_model_providers._auth import auth_from_api_key
from ls_model_providers._constants import ENDPOINT_PATH, ENV_URL
from ls_model_providers._errors import (
    Answer,
    AuthenticationError,
    EndpointNotAvailableError,
    LabelStudioError,
    PermissionDeniedError,
)
from ls_model_providers._secrets import Scrubber
from ls_model_providers._spec import load_spec
from ls_model_providers.toolkit.answers import (
    detail,
    is_html_404,
    json_of,
    not_label_studio,
    not_served,
    release,
    scheme_hint,
)
from ls_model_providers.toolkit.exits import (
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    EXIT_NOT_SERVED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigurationError,
    missing_extra,
)
from ls_model_providers.toolkit.guard import (
    BODY_LIMIT,
    INCONCLUSIVE,
    BadAnswer,
    Guard,
    NoAnswer,
    Stop,
    open_client,
    redirect_of,
)
from ls_model_providers.toolkit.options import (
    MAX_EXAMPLES,
    MAX_LIST_BYTES,
    Limits,
    limit_hint,
    resolve_key,
    resolve_url,
)
from ls_model_providers.toolkit.text import one_line, terminal
from ls_model_providers.toolkit.tls import INSECURE_WARNING, tls_hint, trust

from ._authz import IDENTITIES, identify
from ._checks import CHECKS, FINAL_CHECKS, Check, named
from ._context import (
    API_KEY_VARIABLE,
    DENIED_KEY_VARIABLE,
    Context,
    Identity,
    access_token_variable,
)
from ._model import CheckResult, Report, RunConfig, UsageError

Progress = Callable[[str], None]

#: Results only a run's end produces (limits, and why a run could not test the endpoint).
RUN_NAMES = (
    "endpoint.served",
    "auth.credentials",
    "auth.token_refresh",
    "run.reachable",
    "run.configuration",
    "run.budget",
    "run.deadline",
    "run.rate_limited",
    "run.resent",
    "run.interrupted",
    "run.safety",
    "run.internal",
    "baseline.changes",
    "baseline.recording",
)
#: The result of the comparison with ``--baseline``.
BASELINE = "baseline.changes"
#: The results of a run that stopped at a limit: nothing against the deployment (exit 6).
INCONCLUSIVE_NAMES = frozenset(stop.check for stop in INCONCLUSIVE)


def check_names() -> list[str]:
    """Every result name a run can produce, in report order."""
    from ._fuzz import NAMES

    return [
        *(name for name, _ in CHECKS),
        *(f"schemathesis.{n}" for n in NAMES),
        *(name for name, _ in FINAL_CHECKS),
        *RUN_NAMES,
    ]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C ended a run: ``report`` holds what was found until then, a failing
    ``run.interrupted`` result, and exit code 130. A ``KeyboardInterrupt``, so whatever
    stops on Ctrl-C still does."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.verdict)
        self.report = report


class _Target(NamedTuple):
    base_url: str
    api_key: str
    connection_id: int | None
    embedded: bool
    verify: ssl.SSLContext | bool
    denied_keys: tuple[str, ...] = ()


class _Ending(NamedTuple):
    """Why a run could not go on: its exit code, verdict and failing result."""

    code: int
    verdict: str
    result: CheckResult


def validate(config: RunConfig) -> None:
    """Raise ``UsageError`` for anything in ``config`` a run could not use; sends nothing."""
    _checked(config)


def _checked(config: RunConfig) -> _Target | None:
    """The deployment to test (``None``: the embedded mock), checked."""
    names = config.names
    try:
        value = config.max_examples
        if type(value) is not int or value < 1:
            raise ValueError(f"{names('max_examples')} must be a positive integer, got {value!r}")
        if value > MAX_EXAMPLES:
            raise ValueError(f"{names('max_examples')} must be at most {MAX_EXAMPLES}, got {value}")
        _limits(config)
        connection_id = config.connection_id
        if connection_id is not None:
            connection_id = check_connection_id(connection_id, names("connection_id"))
        denied = tuple(
            resolve_key(key, names, environ={}, setting="denied_keys") for key in config.denied_keys
        )
        base_url = resolve_url(config.base_url, names, environ={})
        if base_url is None:
            given = "a key" if config.api_key is not None else "denied keys" if denied else ""
            if given:  # meant for a deployment: never spent on the built-in mock, passing
                raise ValueError(
                    f"{given} given, but no deployment URL: pass {names('base_url')} URL or set "
                    f"{ENV_URL} (with neither a URL nor keys, conformance checks its built-in mock)"
                )
            return None
        api_key = resolve_key(config.api_key, names, environ={})
        if api_key in denied:
            raise ValueError(f"a {names('denied_keys')} is the {names('api_key')} itself")
        verify = trust(config.cacert, insecure=config.insecure, cacert_option=names("cacert"))
    except (ValueError, TypeError, ConfigurationError) as exc:
        raise UsageError(str(exc)) from None
    return _Target(base_url, api_key, connection_id, False, verify, denied)


def _limits(config: RunConfig) -> Limits:
    return Limits(config.max_requests, config.rate, config.timeout, config.deadline).checked(
        config.names
    )


@contextlib.contextmanager
def _target(config: RunConfig) -> Iterator[_Target]:
    checked = _checked(config)
    if checked is not None:
        yield checked
        return
    try:
        from ls_model_providers.mock import create_app, serve_in_thread
    except ImportError as exc:
        raise UsageError(f"no {config.option('base_url')}: {missing_extra('mock', exc)}") from None
    with serve_in_thread(create_app()) as served:
        connection_id = config.connection_id or 1
        denied = tuple(config.denied_keys)
        yield _Target(served.base_url + "/", served.token, connection_id, True, True, denied)


def run(config: RunConfig, progress: Progress = lambda _line: None) -> Report:
    """Run the suite against ``config``'s deployment (or the embedded mock).

    Raises ``UsageError`` (nothing sent) for a configuration it cannot use; otherwise
    returns the ``Report``, whatever the deployment does.
    """
    try:
        from . import _fuzz
    except ImportError as exc:
        raise UsageError(missing_extra("conformance", exc)) from None
    started = time.monotonic()
    report = Report(target=config.base_url or "(embedded mock)", embedded=not config.base_url,
                    exit_code=EXIT_OK, verdict="", seed=config.seed)  # fmt: skip
    scrub: Scrubber | None = None
    try:
        with _target(config) as target:
            report.target, report.embedded = target.base_url, target.embedded
            ctx = _context(target, config)
            scrub = ctx.scrub
            _suite(report, ctx, config, target, progress, _fuzz)
    except KeyboardInterrupt:  # at any point: in a check, starting or stopping the mock
        _interrupted(report, started, scrub)
        raise Interrupted(report) from None
    report.duration = time.monotonic() - started
    return report


def _suite(
    report: Report,
    ctx: Context,
    config: RunConfig,
    target: _Target,
    progress: Progress,
    fuzz: Any,
) -> None:
    """The run proper, filling ``report``; a Ctrl-C in a check ends it with everything found
    until then (``KeyboardInterrupt`` is raised again once the report is complete)."""
    if config.insecure:
        report.warnings.append(INSECURE_WARNING)

    def add(result: CheckResult) -> None:
        report.results.append(result)
        mark = {"pass": "ok", "fail": "FAIL", "note": "note"}[result.outcome]
        progress(terminal(ctx.scrub(f"  {mark:4}  {result.name}: {one_line(result.summary)}")))

    progress(terminal(f"conformance of GET /{ENDPOINT_PATH}{{id}}/ at {target.base_url}"))
    ending: _Ending | None = None
    stopped = interrupted = tested = False
    recording_code: int | None = None
    try:
        try:
            ending = _preflight(ctx, config, target.connection_id)
            if ending is None:
                tested = True
                report.connection_id = ctx.connection_id
                ctx.operation = fuzz.load_operation(ctx, verify=not config.insecure)
                _checks(ctx, add, progress)
            else:
                add(ending.result)
        except Stop as stop:
            add(_limit(stop, config))
            stopped = True
        except Exception as exc:  # noqa: BLE001 - whatever a deployment makes a library do ends in a verdict
            summary = f"a check could not complete: {type(exc).__name__}: {exc}"
            add(CheckResult("run.internal", "fail", summary))
        if tested:  # what the run saw is judged, however far it got
            for name, function in FINAL_CHECKS:
                result = _one(name, function, ctx)
                if result is not None:
                    add(result)
        for result in _connection_notes(ctx.guard):
            add(result)
        if config.baseline is not None:
            answered = not stopped and (ending is None or ending.code == EXIT_FAILED)
            recording_code = _compare(report, ctx, config, add, progress, answered)
    except KeyboardInterrupt:  # in a check or in the baseline's recording
        interrupted = True
    finally:
        ctx.http.close()  # and its transport, the guard, and the network client under it
    if not interrupted:
        _finish(report, ending, recording_code, config)
    report.server_version = ctx.server_version
    report.requests = len(ctx.guard.sent)
    for sent in ctx.guard.sent:
        report.methods[sent.method] = report.methods.get(sent.method, 0) + 1
    _scrub(report, ctx.scrub)
    if interrupted:
        raise KeyboardInterrupt


def _compare(
    report: Report,
    ctx: Context,
    config: RunConfig,
    add: Callable[[CheckResult], None],
    progress: Progress,
    answered: bool,
) -> int | None:
    """Record the deployment through the run's own client (so within its budget and deadline,
    and counted in its report) and compare it with ``config.baseline``: a ``baseline.changes``
    result, failing when something breaking changed, the change lines as its details. Returns
    the exit code of a recording that could not complete (its ``baseline.recording`` failure
    says why), else ``None``."""
    from ls_model_providers.snapshot import (
        RecordError,
        SnapshotError,
        baseline_ids,
        diff,
        record_through,
    )

    assert config.baseline is not None
    baseline, source = config.baseline, config.baseline.source
    if not answered:  # a limit reached, or no deployment to record: the suite's verdict stands
        add(CheckResult(BASELINE, "note", f"not compared with {source}: the run ended first"))
        return None
    progress(terminal(f"  ....  baseline: recording the deployment to compare it with {source}"))
    try:
        snapshot, warnings = record_through(
            ctx.http, ctx.base_url, ids=baseline_ids(baseline), skip_missing=True,
            scrub=ctx.scrub, credentials=ctx.variables,
        )  # fmt: skip
        result = diff(baseline, snapshot)
    except Stop as stop:
        add(_limit(stop, config))
        return None
    except RecordError as exc:
        summary = f"recording the deployment to compare it with {source}: {exc}"
        add(CheckResult("baseline.recording", "fail", summary))
        return exc.exit_code
    except SnapshotError as exc:  # more fields than a comparison takes
        add(CheckResult(BASELINE, "fail", f"not compared with {source}: {exc}"))
        return EXIT_USAGE
    report.warnings += [f"baseline recording: {w}" for w in warnings]
    lines = result.lines(source, "the deployment")
    details = lines[: len(lines) - (2 if result.breaking else 1)]  # the changes, per connection
    summary = (
        f"{len(result.changes)} difference(s), {len(result.breaking)} breaking since {source} "
        f"({result.compared} connection(s) in both compared)"
    )
    add(CheckResult(BASELINE, "fail" if result.breaking else "pass", summary, details))
    return None


def _context(target: _Target, config: RunConfig) -> Context:
    """The run's one client, and what hides its credentials: as ``$LABEL_STUDIO_API_KEY`` in
    text, as a shell variable in reproductions (access tokens too, as refreshes bring them)."""
    scrub = Scrubber()
    scrub.add(target.api_key, f"${API_KEY_VARIABLE}")
    variables = {target.api_key: API_KEY_VARIABLE}

    def on_access_token(token: str, refresh: str | None) -> None:
        # Named after the key it stands for: the main key's, or denied key n's.
        variable = access_token_variable(variables.get(refresh or "", API_KEY_VARIABLE))
        scrub.add(token, f"${variable}")
        variables[token] = variable

    http, guard = open_client(
        target.base_url, target.api_key, verify=target.verify, limits=_limits(config),
        on_access_token=on_access_token, transport=config.transport,
    )  # fmt: skip
    tls = ["-k"] if config.insecure else ["--cacert", config.cacert] if config.cacert else []
    ctx = Context(
        base_url=target.base_url, connection_id=target.connection_id or 1, http=http, guard=guard,
        scrub=scrub, variables=variables, spec=load_spec(), max_examples=config.max_examples,
        seed=config.seed, curl_options=tls,
    )  # fmt: skip
    for number, key in enumerate(target.denied_keys, 1):  # a label each, never the key
        variable = f"{DENIED_KEY_VARIABLE}_{number}"
        scrub.add(key, f"${variable}")
        variables[key] = variable
        auth = auth_from_api_key(key, base_url=target.base_url)
        ctx.identities.append(Identity(f"denied key #{number}", guard.client(auth), variable))
    guard.observers.append(ctx.observe)  # every answer of the run is searched for secrets
    return ctx


# -- before the checks: is there something to test? --------------------------------------------


def _preflight(ctx: Context, config: RunConfig, wanted: int | None) -> _Ending | None:
    """Is there something to test: the connection, then what kind of user each denied key
    belongs to (a denied key the server rejects as credentials is a usage error, exit 2)."""
    ending = _find_connection(ctx, config, wanted)
    if ending is not None:
        return ending
    try:
        message = identify(ctx)
    except NoAnswer as exc:  # a denied user's request got no (whole) answer
        if exc.sent.status is None:
            return _unreachable(config, exc)
        return _Ending(EXIT_FAILED, f"NOT CONFORMANT: {exc}", _fail(IDENTITIES, str(exc), ctx, exc))
    except BadAnswer as exc:
        return _Ending(EXIT_FAILED, f"NOT CONFORMANT: {exc}", _fail(IDENTITIES, str(exc), ctx, exc))
    if message is not None:
        verdict = f"{config.option('denied_keys')}: {message}"
        return _Ending(EXIT_USAGE, verdict, _fail("run.configuration", verdict))
    return None


def _find_connection(ctx: Context, config: RunConfig, wanted: int | None) -> _Ending | None:
    """GET the connection (or connection 1) with the credentials: reachable, served, accepted?"""
    probe = wanted or 1
    try:
        response = ctx.send("GET", ctx.endpoint(probe))
    except NoAnswer as exc:
        if exc.sent.status is None:  # not a byte of an answer: unreachable
            return _unreachable(config, exc)
        result = _fail("connection.valid_200", str(exc), ctx, exc)  # it answered, but not whole
        return _Ending(EXIT_FAILED, f"NOT CONFORMANT: {exc}", result)
    except BadAnswer as exc:
        result = _fail("connection.valid_200", str(exc), ctx, exc)
        return _Ending(EXIT_FAILED, f"NOT CONFORMANT: {exc}", result)
    except LabelStudioError as exc:  # the personal access token's refresh
        return _refresh_failed(ctx, exc)
    hint = scheme_hint(ctx.base_url, answer=Answer.of(response))
    if hint is not None:  # nginx's 400 to plain HTTP on its TLS port
        return _Ending(EXIT_UNREACHABLE, f"UNREACHABLE: {hint}", _fail("run.reachable", hint))
    moved = redirect_of(response, ctx.base_url)
    if moved is not None:  # http -> https, a canonical host: the user's URL, not the endpoint
        verdict = (
            f"the base URL redirects to {moved[:200]}: use that "
            f"({config.option('base_url')} {moved[:200]})"
        )
        return _Ending(EXIT_USAGE, verdict, _fail("run.configuration", verdict, ctx, response))
    if is_html_404(response):
        return _not_served(ctx)
    if response.status_code in (401, 403):
        what = (
            "rejected" if response.status_code == 401 else "refused permission to view connections"
        )
        verdict = f"credentials {what} by the server ({response.status_code}: {detail(response)})"
        return _Ending(EXIT_CREDENTIALS, verdict, _fail("auth.credentials", verdict, ctx, response))
    if wanted is None and response.status_code != 200:
        found = _discover(ctx)
        if found is None:
            verdict = (
                f"no connection id to test: pass {config.option('connection_id')} N (an existing "
                "connection; the UI lists them under Organization > Model Providers, or: curl -H "
                f'"Authorization: Token ${API_KEY_VARIABLE}" {ctx.base_url}{ENDPOINT_PATH})'
            )
            return _Ending(EXIT_USAGE, verdict, _fail("run.configuration", verdict))
        ctx.connection_id = found
        return None
    if response.status_code == 404:
        verdict = (
            f"connection {probe} does not exist for these credentials: pass an existing "
            f"{config.option('connection_id')}"
        )
        return _Ending(EXIT_USAGE, verdict, _fail("run.configuration", verdict, ctx, response))
    ctx.connection_id = probe
    ctx.remember_existing(response)
    return None


def _unreachable(config: RunConfig, exc: NoAnswer) -> _Ending:
    verdict = f"UNREACHABLE: {exc}"
    if exc.tls_problem is not None:
        verdict += f": {tls_hint(config.option('cacert'), config.option('insecure'))}"
    return _Ending(EXIT_UNREACHABLE, verdict, _fail("run.reachable", verdict))


def _refresh_failed(ctx: Context, exc: LabelStudioError) -> _Ending:
    if isinstance(exc, EndpointNotAvailableError):
        return _not_served(ctx)
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        verdict = f"credentials rejected: {exc}"
        return _Ending(EXIT_CREDENTIALS, verdict, _fail("auth.credentials", verdict))
    verdict = f"NOT CONFORMANT: the token refresh failed: {exc}"
    return _Ending(EXIT_FAILED, verdict, _fail("auth.token_refresh", str(exc)))


def _not_served(ctx: Context) -> _Ending:
    """An HTML 404 for the endpoint: Label Studio without it (Community, exit 3), or a URL
    whose server is not Label Studio at all (exit 2: the user's URL to fix)."""
    version = None
    with contextlib.suppress(Stop, NoAnswer, BadAnswer, LabelStudioError):
        version = release(ctx.http, ctx.base_url)
    if version is None:
        message = not_label_studio(ctx.base_url)
        result = CheckResult("run.configuration", "fail", message)
        return _Ending(EXIT_USAGE, f"usage: {message}", result)
    ctx.server_version = version
    likely = not_served(version)
    result = CheckResult(
        "endpoint.served", "fail", "the endpoint answers with an HTML 404 page", [likely]
    )
    return _Ending(EXIT_NOT_SERVED, f"ENDPOINT NOT SERVED: {likely}", result)


def _discover(ctx: Context) -> int | None:
    """The first connection the credentials can see, from the list endpoint."""
    with contextlib.suppress(NoAnswer, BadAnswer, LabelStudioError):
        request = ctx.http.build_request(
            "GET", ctx.base_url + ENDPOINT_PATH, extensions={BODY_LIMIT: MAX_LIST_BYTES}
        )
        response = ctx.http.send(request)
        body = json_of(response)
        items = body.get("results") if isinstance(body, dict) else body
        if response.status_code == 200 and isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and type(item.get("id")) is int and item["id"] >= 1:
                    return int(item["id"])
    return None


# -- the checks -----------------------------------------------------------------------------------


def _checks(ctx: Context, add: Callable[[CheckResult], None], progress: Progress) -> None:
    from ._fuzz import fuzz

    for name, function in CHECKS:
        result = _one(name, function, ctx)
        if result is not None:
            add(result)
    for result in fuzz(ctx, progress):
        add(result)


def _connection_notes(guard: Guard) -> list[CheckResult]:
    """What the run did so that every request got one answer: never a failure."""
    notes = []
    if guard.resent:
        notes.append(CheckResult(
            "run.resent", "note",
            f"{guard.resent} request(s) sent again on a fresh connection: the server closed an "
            "idle keep-alive connection without saying Connection: close (uwsgi's HTTP router "
            "does this after every answer); not a failure",
        ))  # fmt: skip
    if guard.rate_limited:
        notes.append(CheckResult(
            "run.rate_limited", "note",
            f"rate limited {guard.rate_limited} time(s) (429): waited {guard.waited:.1f} s in "
            "all, as the server asked, and sent each request again; not a failure",
        ))  # fmt: skip
    return notes


def _limit(stop: Stop, config: RunConfig) -> CheckResult:
    """The failing result of a run that hit a limit, saying which option moves it."""
    hint = limit_hint(stop.check, config.names)
    return CheckResult(stop.check, "fail", f"{stop}: {hint}" if hint else str(stop))


def _one(name: str, function: Check, ctx: Context) -> CheckResult | None:
    """One hand-written check; a request of it that got no usable answer fails it."""
    try:
        finding = function(ctx)
    except (NoAnswer, BadAnswer) as exc:
        return _fail(name, str(exc), ctx, exc)
    except LabelStudioError as exc:  # a token refresh on the way failed
        return _fail(name, f"token refresh failed: {exc}")
    return None if finding is None else named(name, finding)


def _fail(name: str, summary: str, ctx: Context | None = None, about: Any = None) -> CheckResult:
    """A failing result; ``about`` (an answer or a transport failure) gives its reproduction."""
    sent = about if isinstance(about, httpx.Response) else getattr(about, "sent", None)
    repro = ctx.repro(sent) if ctx is not None and sent is not None else None
    return CheckResult(name, "fail", summary, [], repro)


def _finish(
    report: Report, ending: _Ending | None, recording_code: int | None, config: RunConfig
) -> None:
    """The exit code and verdict, from the ending (if the run could not test the endpoint)
    and the failures (the baseline comparison's included)."""
    if ending is not None and ending.code != EXIT_FAILED:
        report.exit_code, report.verdict = ending.code, ending.verdict
        return
    failed = report.failed
    checks = [
        r for r in failed if not r.name.startswith("baseline.") and r.name not in INCONCLUSIVE_NAMES
    ]
    stopped = [r for r in failed if r.name in INCONCLUSIVE_NAMES]
    since = f" since {config.baseline.source}" if config.baseline is not None else ""
    if checks:
        names = ", ".join(r.name for r in failed)
        report.exit_code = EXIT_FAILED
        report.verdict = f"NOT CONFORMANT: {len(failed)} check(s) failed ({names})"
    elif stopped:  # nothing wrong was seen, but not everything could be checked
        report.exit_code = EXIT_INCONCLUSIVE
        report.verdict = f"INCONCLUSIVE: {stopped[0].summary}"
    elif failed:  # the checks passed; the comparison with the baseline did not
        report.exit_code = recording_code or EXIT_FAILED
        if recording_code is None:
            report.verdict = f"BREAKING changes{since}: the deployment sends what it never did"
        else:
            report.verdict = f"NOT COMPARED: {failed[0].summary}"
    else:
        report.exit_code = EXIT_OK
        report.verdict = f"CONFORMANT, nothing breaking{since}" if since else "CONFORMANT"


def _interrupted(report: Report, started: float, scrub: Scrubber | None) -> None:
    """A report stopped by Ctrl-C: what was found, a failing ``run.interrupted``, exit 130."""
    ran = sum(r.name not in RUN_NAMES for r in report.results)
    after = f"after {ran} result(s) and {report.requests} request(s)"
    report.results.append(CheckResult("run.interrupted", "fail", f"interrupted (Ctrl-C) {after}"))
    report.exit_code = EXIT_INTERRUPTED
    report.verdict = f"INTERRUPTED (Ctrl-C) {after}: the checks that did not run are not reported"
    report.duration = time.monotonic() - started
    if scrub is not None:
        _scrub(report, scrub)


def _scrub(report: Report, scrub: Scrubber) -> None:
    """Credentials (and secret values seen in bodies) out of every text of the report, and
    each text on one line: a server's line breaks cannot start a line of the report."""
    report.verdict = one_line(scrub(report.verdict))
    report.server_version = (
        one_line(scrub(report.server_version)) if report.server_version else None
    )
    for result in report.results:
        result.summary = one_line(scrub(result.summary))
        result.details = [one_line(scrub(d)) for d in result.details]
        result.repro = one_line(scrub(result.repro)) if result.repro else None
