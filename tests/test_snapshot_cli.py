"""The snapshot commands: real output, exit codes, no credential or secret in any output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread
from ls_model_providers.snapshot._cli import HANDLERS, add_mock_option, add_snapshot_parsers

CANARY = "canarycanarycanarycanarycanarycanary0001"
LEAKED = "sk-mock-LEAKED-provider-key-0123456789"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="ls-model-providers")
    add_snapshot_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return HANDLERS[args.command](args)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def canary_mock() -> Iterator[ServedMock]:
    """A served mock whose admin token is the canary and whose bodies leak a provider key."""
    with serve_in_thread(create_app(data=default_data(CANARY), defects=["secret_field"])) as served:
        yield served


def test_snapshot_writes_the_file_and_says_what_it_did(
    canary_mock: ServedMock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "new" / "folder" / "prod.json"
    code, out, err = run(
        capsys, "snapshot", "--base-url", canary_mock.base_url, "--api-key", CANARY, "--all",
        "-o", str(path),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"wrote {path}: 7 connection(s), 11 probe answers, server 2.30.0")
    assert "17 requests (15 GET, 1 HEAD, 1 OPTIONS)" in out
    assert "  200  GET api/model-provider-connections/\n" in err
    text = path.read_text()
    assert CANARY not in out + err + text
    assert LEAKED not in out + err + text
    code, out, err = run(capsys, "snapshot-diff", str(path), str(path))
    assert (code, out.splitlines()[-1]) == (
        0, "0 difference(s), 0 breaking (7 connection(s) in both snapshots compared)"
    )  # fmt: skip


def test_snapshot_diff_exits_1_on_a_breaking_change(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, options in (("old", {"model_params": "string"}), ("new", {})):
        with serve_in_thread(create_app(**options)) as served:  # type: ignore[arg-type]
            monkeypatch.setenv("LABEL_STUDIO_URL", served.base_url)
            monkeypatch.setenv("LABEL_STUDIO_API_KEY", served.token)
            assert (
                run(capsys, "snapshot", "--ids", "1,2", "-o", str(tmp_path / f"{name}.json"))[0]
                == 0
            )
    code, out, _ = run(
        capsys, "snapshot-diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")
    )
    assert code == 1
    assert out.splitlines()[0] == "BREAKING    body.model_params: type string -> object"
    assert (
        out.splitlines()[-1]
        == f"BREAKING: {tmp_path / 'new.json'} sends what {tmp_path / 'old.json'} never did"
    )


def test_a_malformed_snapshot_is_exit_2_naming_the_spot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "ls-model-providers-snapshot", "version": "1"}))
    code, out, err = run(capsys, "snapshot-diff", str(bad), str(bad))
    assert (code, out) == (2, "")
    assert err == f'error: {bad}: #: lacks the required key "server"\n'
    parser = argparse.ArgumentParser(prog="mock")
    add_mock_option(parser)
    with pytest.raises(SystemExit) as usage:
        parser.parse_args(["--snapshot", str(bad)])
    assert usage.value.code == 2
    assert f'{bad}: #: lacks the required key "server"' in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--ids", "1", "--all"],  # one or the other
        ["--ids", "1,x"],
        ["--ids", "0"],
        ["--all", "--rate", "nan"],
        ["--all", "--max-requests", "0"],
        ["--all", "--cacert", "ca.pem", "--insecure"],
    ],
)
def test_bad_options_are_usage_errors_before_any_request(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(
            [
                "snapshot",
                "--base-url",
                "http://127.0.0.1:9",
                "--api-key",
                "k",
                "-o",
                str(tmp_path / "s.json"),
                *argv,
            ]
        )
    assert usage.value.code == 2
    assert not (tmp_path / "s.json").exists()


def test_usage_and_deployment_exit_codes(
    canary_mock: ServedMock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    out = str(tmp_path / "s.json")
    assert run(capsys, "snapshot", "--all", "--api-key", CANARY, "-o", out)[0] == 2  # no URL
    code, _, err = run(
        capsys, "snapshot", "--base-url", "ls.example.com", "--api-key", CANARY, "--all", "-o", out
    )
    assert (code, err) == (
        2,
        "error: --base-url: base_url must be an http(s) URL with a host, got a URL without a scheme\n",
    )
    code, _, err = run(
        capsys,
        "snapshot",
        "--base-url",
        canary_mock.base_url,
        "--api-key",
        "f" * 40,
        "--all",
        "-o",
        out,
    )
    assert (code, err.splitlines()[-1]) == (4, "error: credentials rejected (401: Invalid token.)")
    code, _, err = run(
        capsys,
        "snapshot",
        "--base-url",
        canary_mock.base_url,
        "--api-key",
        CANARY,
        "--ids",
        "9",
        "-o",
        out,
    )
    assert code == 2 and "connection 9 does not exist for these credentials" in err
    with serve_in_thread(create_app(defects=["community"])) as community:
        assert (
            run(
                capsys,
                "snapshot",
                "--base-url",
                community.base_url,
                "--api-key",
                CANARY,
                "--all",
                "-o",
                out,
            )[0]
            == 3
        )
    closed = community.base_url
    code, _, err = run(
        capsys,
        "snapshot",
        "--base-url",
        closed,
        "--api-key",
        CANARY,
        "--ids",
        "1",
        "-o",
        out,
        "--timeout",
        "2",
    )
    assert code == 5 and "unreachable" in err
    assert not Path(out).exists()  # nothing written when a recording fails
    with pytest.raises(SystemExit):
        main(["snapshot", "--all", "-o", str(tmp_path)])  # a folder
