"""The pytest fixtures replay a snapshot: ``--ls-snapshot FILE`` (or ``ls_mock_snapshot``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ls_model_providers.mock import SyncASGITransport, create_app, default_data
from ls_model_providers.snapshot import record

pytest_plugins = ["pytester"]


def test_the_pytest_fixtures_replay_a_snapshot(pytester: pytest.Pytester, tmp_path: Path) -> None:
    data = default_data()
    data.connections[0]["provider"] = "OpenRouter"  # what "production" sends
    app = create_app(data=data)
    token = app.state.mock.data.users[0].token
    prod = tmp_path / "prod.json"
    record("http://mock", token, ids=[1], transport=SyncASGITransport(app)).snapshot.write(prod)
    pytester.makepyfile(
        """
        import httpx

        def test_served(ls_mock_server):
            headers = {"Authorization": f"Token {ls_mock_server.token}"}
            url = f"{ls_mock_server.base_url}/api/model-provider-connections/"
            assert httpx.get(url + "1/", headers=headers).json()["provider"] == "OpenRouter"
            assert httpx.get(url + "2/", headers=headers).status_code == 404  # not recorded

        def test_in_process(ls_mock_app, ls_mock_snapshot):
            assert ls_mock_snapshot.endswith("prod.json")
            assert ls_mock_app.state.mock.replay.connections[1]["provider"] == "OpenRouter"
        """
    )
    result = pytester.runpytest_inprocess("--ls-snapshot", str(prod), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    (tmp_path / "bad.json").write_text("{}")
    failed = pytester.runpytest_inprocess(
        "--ls-snapshot", str(tmp_path / "bad.json"), "-k", "in_process"
    )
    failed.assert_outcomes(errors=1)
    assert (
        "--ls-snapshot: " in failed.stdout.str()
        and 'lacks the required key "format"' in failed.stdout.str()
    )
