"""The suite under pytest (in-process, with pytester): one test per check, nothing sent at
collection, messages that name the plugin's own options; and the suite's module structure."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

import ls_model_providers.conformance as conformance
from ls_model_providers.conformance import RUN_NAMES, RunConfig, check_names, run
from ls_model_providers.mock import create_app, serve_in_thread

from .servers import Recorder, Seen

pytest_plugins = ["pytester"]
SUITE = ["--pyargs", "ls_model_providers.conformance", "-p", "no:cacheprovider"]


@pytest.fixture(scope="module", autouse=True)
def _imported_already() -> None:
    """pytester drops the modules an in-process run imported when it ends. A module the suite
    imports lazily (schemathesis's, during generation) would then exist twice in this process,
    and its classes with it; one run here first imports them all for good."""
    assert run(RunConfig(max_examples=1)).exit_code == 0


@pytest.fixture(autouse=True)
def _no_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)


def test_the_embedded_run_is_a_test_per_check(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*SUITE, "--ls-max-examples", "5", "-v")
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    # No --ls-denied-key: no authz.* tests (there is no identity to run them with).
    checks = [n for n in check_names() if n not in RUN_NAMES and not n.startswith("authz.")]
    assert outcomes["passed"] == len(checks) + 1  # and the verdict
    text = result.stdout.str()
    assert "test_check[connection.valid_200] PASSED" in text
    assert "test_verdict PASSED" in text


def test_a_failing_deployment_fails_the_checks_it_breaks(pytester: pytest.Pytester) -> None:
    with serve_in_thread(create_app(defects=["wrong_type"])) as served:
        result = pytester.runpytest_inprocess(
            *SUITE, "--ls-base-url", served.base_url, "--ls-api-key", served.token,
            "--ls-id", "1", "--ls-max-examples", "3",
        )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    assert "test_check[connection.valid_200]" in text
    assert "reproduce: curl -sS -i -H 'Authorization: Token '\"$LABEL_STUDIO_API_KEY\" http" in text
    assert served.token not in text


def test_collection_sends_nothing(pytester: pytest.Pytester) -> None:
    app = create_app()
    seen: list[Seen] = []
    app.add_middleware(Recorder, log=seen)
    with serve_in_thread(app) as served:
        result = pytester.runpytest_inprocess(
            *SUITE,
            "--collect-only",
            "-q",
            "--ls-base-url",
            served.base_url,
            "--ls-api-key",
            served.token,
        )
    assert result.ret == 0, result.stdout.str()
    assert seen == []
    authz = sum(n.startswith("authz.") for n in check_names())
    collected = len(check_names()) - len(RUN_NAMES) - authz + 1
    assert f"{collected} tests collected" in result.stdout.str()


@pytest.mark.parametrize(
    ("argv", "names", "not_names"),
    [
        (["--ls-base-url", "http://127.0.0.1:1"], ["--ls-api-key", "LABEL_STUDIO_API_KEY"], ["--api-key"]),
        (["--ls-base-url", "http://127.0.0.1:1", "--ls-api-key", "k", "--ls-max-examples", "0"],
         ["--ls-max-examples"], ["--max-examples "]),
        (["--ls-base-url", "http://127.0.0.1:1", "--ls-api-key", "k", "--ls-id", "0"],
         ["--ls-id must be between 1"], ["--id"]),
        (["--ls-base-url", "ls.example.com", "--ls-api-key", "k"], ["--ls-base-url must be"], ["--base-url"]),
    ],
)  # fmt: skip
def test_plugin_messages_name_the_plugins_options(
    pytester: pytest.Pytester, argv: list[str], names: list[str], not_names: list[str]
) -> None:
    result = pytester.runpytest_inprocess(*SUITE, *argv)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert all(name in text for name in names), text
    assert not any(name in text for name in not_names), text
    assert "Traceback" not in text and "AssertionError" not in text


def test_the_mock_fixture_without_its_extra_says_what_to_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ls_model_providers

    monkeypatch.delattr(ls_model_providers, "mock")  # restored afterwards, like sys.modules
    for name in list(sys.modules):
        if name.startswith(("ls_model_providers.mock", "jwt")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jwt", None)
    pytester.makepyfile("def test_it(ls_mock_server):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    assert (
        "install the mock extra: pip install 'ls-model-providers[mock]' (missing module: jwt)"
        in text
    )
    assert "halted" not in text, "one message, not the ImportError behind it"


def test_the_suites_modules_import_each_other_without_a_cycle() -> None:
    """Every intra-package import, at module level, in functions or under TYPE_CHECKING."""
    folder = Path(conformance.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        imports = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imports |= {node.module} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "ls_model_providers.conformance."
            ):
                imports.add((node.module or "").rsplit(".", 1)[1])
        graph[path.stem] = imports - {path.stem}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        assert state.get(module) != "open", f"import cycle: {' -> '.join([*trail, module])}"
        if state.get(module) == "done" or module not in graph:
            return
        state[module] = "open"
        for imported in sorted(graph[module]):
            visit(imported, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        if module != "__init__":
            visit(module, [])


def _hide(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """``module`` cannot be imported until the test ends; the suite's modules are imported again."""
    import ls_model_providers

    monkeypatch.setattr(ls_model_providers, "conformance", conformance)  # put back after
    for name in list(sys.modules):
        if name.startswith("ls_model_providers.conformance"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize("module", ["hypothesis", "schemathesis", "yaml"])
def test_importing_the_suite_without_its_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    import importlib

    _hide(monkeypatch, module)
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("ls_model_providers.conformance")
    assert str(info.value) == (
        "install the conformance extra: pip install 'ls-model-providers[conformance]' "
        f"(missing module: {module})"
    )


def test_the_suite_under_pytest_without_its_extra_is_one_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # yaml: hypothesis and schemathesis are pytest plugins, which pytest itself imports.
    _hide(monkeypatch, "yaml")
    result = pytester.runpytest_inprocess(*SUITE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert (
        "install the conformance extra: pip install 'ls-model-providers[conformance]' "
        "(missing module: yaml)" in text
    )
    assert "Traceback" not in text and "ModuleNotFoundError" not in text, text


def test_the_documented_snapshot_override_works_for_both_fixtures(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """The conftest.py the plugin's docstring shows (a session-scoped override), as written."""
    from ls_model_providers import pytest_plugin
    from ls_model_providers.snapshot import record

    docs = pytest_plugin.__doc__ or ""
    example = docs.split("# conftest.py\n", 1)[1].split("\n\n", 1)[0]
    example += "\n" + docs.split("# conftest.py\n", 1)[1].split("\n\n", 2)[1]
    conftest = textwrap.dedent(example)
    assert '@pytest.fixture(scope="session")' in conftest
    with serve_in_thread(create_app()) as served:
        recording = record(served.base_url + "/", served.token, ids=[1])
    snapshot = pytester.path / "tests" / "prod-snapshot.json"
    snapshot.parent.mkdir()
    recording.snapshot.write(snapshot)
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        test_it="""
        def test_app(ls_mock_app):
            assert ls_mock_app.state.mock.replay is not None

        def test_server(ls_mock_server):
            assert ls_mock_server.state.replay is not None
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        ({"LABEL_STUDIO_URL": ""}, "LABEL_STUDIO_URL is set but empty"),
        ({"LABEL_STUDIO_URL": "http://127.0.0.1:1", "LABEL_STUDIO_API_KEY": " "},
         "LABEL_STUDIO_API_KEY is set but empty"),
        ({"LABEL_STUDIO_DENIED_KEYS": ","}, "LABEL_STUDIO_DENIED_KEYS is set but empty"),
        ({"LABEL_STUDIO_API_KEY": "abcdefghijkl"}, "a key given, but no deployment URL: pass --ls-base-url"),
    ],
    ids=["url", "key", "denied keys", "key without url"],
)  # fmt: skip
def test_a_variable_set_empty_is_one_usage_error_not_the_built_in_mock(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    said: str,
) -> None:
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_DENIED_KEYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest_inprocess(*SUITE)
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, text
    assert said in text
    assert "Traceback" not in text and "AssertionError" not in text
