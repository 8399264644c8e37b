"""Mutation testing: can the tests fail when the code is wrong? (``nox -s mutation``)

Not a default session: it takes about half an hour on two cores. It mutates the client core
and the conformance checks, runs each mutant against the tests that reach the code it
changed, and prints per module how many mutants the tests killed.

How:

* mutmut (pinned in ``noxfile.py``) mutates every function and method body. It runs the
  selected tests once to learn which test calls which function, then each mutant, in four
  forked workers (the socket tests mostly wait), against only those tests (``-x``: the first failure kills it).
* mutmut leaves alone what runs at import time: module-level data (the secret word lists,
  the third-party logger names, the JSON type names) and decorated functions (every
  conformance check, ``scrubbing_logs``). This file mutates those itself, with mutmut's own
  operators: the changed statement or function is put into the imported module (a function's
  ``__code__`` swapped, so registries and decorators see it), and the tests that called code
  reading it are run in a forked child. ``__all__``, ``__slots__`` and type variables are
  left out: they are not behaviour.
* Each module is mutated in a staged copy of the repository (``.nox/mutation-stage/``), with
  the test files of its group (``GROUPS``): the tests that exercise it, not the whole suite.

What "killed" leaves out:

* *message text*: a mutant that only changes what a person reads: any change inside a
  logging call (``log.debug(...)``: it has no other effect), any change to the message (the
  first positional argument) of an exception class and to nothing else (``ValueError("...")``
  to ``ValueError(None)``), a string literal inside a ``raise``, or, in the
  conformance checks, a string literal of a finding's text (the summary and details of
  ``Finding``/``ok``/``note``, and the ``problems``/``summary``/``what``/``form`` strings feeding
  them). They are counted in their own column ("text"), not in the score.
* *equivalent* mutants listed in ``EQUIVALENT`` below, each with why no behaviour can tell
  it from the original. The table shows the score with and without them.

Usage: ``python benchmarks/mutation.py [--group core|conformance] [--module _auth.py ...] [--keep]
[--survivors]`` (``--module`` mutates only those modules of the group, in a stage of their own,
to check a few modules' tests again; ``--keep`` reuses the staged copy and mutmut's cached
results, for a second look).
"""

from __future__ import annotations
import __future__

import argparse
import contextlib
import inspect
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".nox" / "mutation-stage"
PACKAGE = "ls_model_providers"

CORE_TESTS = [
    "tests/test_args.py",
    "tests/test_body.py",
    "tests/test_client.py",
    "tests/test_auth.py",
    "tests/test_secrets.py",
    "tests/test_retry_policy.py",
    "tests/test_parser_properties.py",
    "tests/test_hostile.py",
    "tests/test_surface.py",
    "tests/test_tls.py",
]
# (test_conformance_guard.py tests the guard, not the checks, and its timing tests are not
# meant to share two cores with four mutant workers.)
CONFORMANCE_TESTS = ["tests/test_conformance.py", "tests/test_verdicts.py"]


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]  # paths under wrapper/ls_model_providers/
    tests: tuple[str, ...]


GROUPS = (
    Group(
        "core",
        ("_engine.py", "_retry.py", "_secrets.py", "_args.py", "_auth.py", "_body.py"),
        tuple(CORE_TESTS),
    ),
    Group("conformance", ("conformance/_checks.py",), tuple(CONFORMANCE_TESTS)),
)

#: Surviving mutants no behaviour can tell from the original: name -> why.
EQUIVALENT: dict[str, str] = {
    "ls_model_providers._engine.xǁRunǁ__init____mutmut_4": "the first step is set by next() before took() reads it",
    "ls_model_providers._engine.xǁConfigǁ__init____mutmut_21": "timeout_max only skips building a capped Timeout: _timeout returns equal limits either way",
    "ls_model_providers._engine.xǁConfigǁ__init____mutmut_23": "as _21: the cap computed when not needed equals the caller's limits",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_4": "any other method name sends the GET through build_request: the same request, built slower",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_5": "as _4",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_11": "header names are case-blind (httpx.Headers)",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_12": "header names are case-blind",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_26": "as _23: the cache key never matches, the headers are rebuilt equal",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_40": "the URL cache cleared at 257 entries instead of 256: a bound on memory, not a behaviour",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_41": "as _40",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_47": "as_dict() of the same Timeout: an equal dict",
    "ls_model_providers._engine.xǁCallǁ_get_once__mutmut_3": "the generation of a Token auth is never read (only a personal access token has one)",
    "ls_model_providers._engine.xǁCallǁ_get_once__mutmut_39": "the header is ours, and config.scrub already hides its secrets",
    "ls_model_providers._engine.xǁCallǁ_authorization__mutmut_15": "needs_refresh(g) is 'generation still g, or due'; still g means nobody refreshed, so still due",
    "ls_model_providers._engine.xǁCallǁ_refresh_once__mutmut_12": "httpx upper-cases the method",
    "ls_model_providers._engine.xǁCallǁ_failure__mutmut_19": "retryable None is as false as False",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_77": "as _75",
    "ls_model_providers._engine.xǁCallǁ_timeout__mutmut_2": "without the shortcut the cap is computed: min() of limits under the remaining time gives the same limits",
    "ls_model_providers._engine.xǁCallǁ_timeout__mutmut_7": "at maximum == remaining, min(limit, remaining) is the limit: the same Timeout",
    "ls_model_providers._engine.xǁCallǁ_redirect__mutmut_5": "unreachable: httpx sets next_request on every redirect it does not follow",
    "ls_model_providers._engine.xǁCallǁ_redirect__mutmut_7": "unreachable, as _5",
    "ls_model_providers._engine.xǁCallǁ_scrubber__mutmut_9": "rpartition and partition agree on 'Scheme token' (one space)",
    "ls_model_providers._engine.xǁCallǁ_transport_failure__mutmut_57": "retryable None is as false as False",
    "ls_model_providers._auth.xǁTokenAuthǁauth_flow__mutmut_3": "header names are case-blind",
    "ls_model_providers._auth.xǁTokenAuthǁauth_flow__mutmut_4": "header names are case-blind",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁ__init____mutmut_13": "'' is as false as None where _previous is read",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁ__init____mutmut_14": "_refresh_at is read only once an access token is set, and accept() sets it then",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁ__init____mutmut_16": "the generation is only compared for equality: any start works",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁcurrent_bearer__mutmut_1": "called only after a refresh succeeded, when there is an access token",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁauth_flow__mutmut_32": "after a successful refresh current_bearer() is never None: the '' is never reached",
    "ls_model_providers._body.xǁ_Inflateǁ__init____mutmut_12": "MAX_WBITS | 17 == MAX_WBITS | 16 (the bit 1 is already set)",
    "ls_model_providers._body.xǁ_Inflateǁdecode__mutmut_9": "None is as false as False",
    "ls_model_providers._body.xǁ_Inflateǁdecode__mutmut_21": "None is as false as False",
    "ls_model_providers._body.xǁ_Inflateǁflush__mutmut_8": "as _7",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_16": "every form of a held secret is in _forms: pop always finds it",
    "ls_model_providers._body.xǁ_Inflateǁdecode__mutmut_7": "asking zlib for room + 2 bytes instead of room + 1 still shows 'over the limit'; the surplus is never kept",
    "ls_model_providers._body.xǁ_Inflateǁdecode__mutmut_20": "as decode_7, on the raw-deflate path",
    "ls_model_providers._body.xǁBodyReaderǁ_decode__mutmut_9": "at exactly room bytes the skipped flush would return b'' (see flush_7)",
    "ls_model_providers._body.xǁBodyReaderǁ_decode__mutmut_10": "in finish() decompress(b'') returns b'': = and += give the same",
    "ls_model_providers._body.xǁBodyReaderǁ_decode__mutmut_13": "flush returns b'' whatever its limit (see flush_7)",
    "ls_model_providers._body.xǁBodyReaderǁfinish__mutmut_1": "the final flush yields b'' (zlib emitted everything already): keeping nothing is the same",
    "ls_model_providers._body.xǁBodyReaderǁfinish__mutmut_3": "final=None is as false as False; the final flush yields b'' anyway",
    "ls_model_providers._body.xǁBodyReaderǁfinish__mutmut_6": "bytes fed after the end of a zlib stream are set aside as unused_data, never output",
    "ls_model_providers._body.xǁBodyReaderǁfinish__mutmut_7": "as finish_3",
    "ls_model_providers._body.xǁBodyReaderǁfinish__mutmut_9": "joining one chunk gives the same bytes",
    "ls_model_providers._body.xǁBodyReaderǁfeed__mutmut_10": "final=None is as false as False",
    "ls_model_providers._body.x_json_type__mutmut_2": "the isinstance fallback names every JSON type the same (bool before int)",
    "ls_model_providers._secrets.x__fold__mutmut_13": "'I' is lower-cased right after: the same 'i'",
    "ls_model_providers._secrets.x_secret_values__mutmut_4": "the default depth is the MAX_JSON_DEPTH passed",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_7": "set().union() of nothing is the empty set",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_19": "every form's prefix has a bucket: the default is never used",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_21": "as discard_19",
    "ls_model_providers._secrets.xǁScrubberǁ_spans__mutmut_2": "both ways of finding forms give the same spans (tests check both sides of the threshold)",
    "ls_model_providers._secrets.xǁScrubberǁ_spans__mutmut_18": "an occurrence starting one character later overlaps the one found (forms are 8+ long) and is dropped anyway",
    "ls_model_providers._secrets.xǁScrubberǁ_spans__mutmut_34": "positions past the end slice fewer than 8 characters, which no bucket key matches",
    "ls_model_providers._secrets.xǁScrubberǁ_scrub__mutmut_1": "a text under 8 characters holds no form: scrubbing it finds nothing",
    "ls_model_providers.conformance._checks.x__expect_401__mutmut_9": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.x__expect_401__mutmut_40": "split(' ') without a limit: the first word is the same",
    "ls_model_providers.conformance._checks.x__expect_401__mutmut_43": "header names are case-blind (httpx.Headers)",
    "ls_model_providers.conformance._checks.x__expect_401__mutmut_45": "split(' ', 2): the first word is the same",
    "ls_model_providers.conformance._checks.<module>__extra_9": "Check is a type alias only annotations read, and they are not evaluated",
    "ls_model_providers.conformance._checks.valid_200__extra_14": "header names are case-blind",
    "ls_model_providers.conformance._checks.malformed_header__extra_10": "a bare scheme either way: DRF compares the Authorization scheme case-blind",
    "ls_model_providers.conformance._checks.malformed_header__extra_11": "as malformed_header__extra_10",
    "ls_model_providers.conformance._checks.route_variants__extra_6": "rstrip of 'X' too: the endpoint ends in '<id>/', never in X",
    "ls_model_providers.conformance._checks.route_variants__extra_10": "as route_variants__extra_6",
    "ls_model_providers.conformance._checks.route_variants__extra_34": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.route_variants__extra_47": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.unknown_id__extra_7": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.non_integer_id__extra_7": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.non_integer_id__extra_21": "problems is empty there (the status was 404): = and += give the same",
    "ls_model_providers.conformance._checks.head__extra_7": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.options__extra_7": "httpx upper-cases the method",
    "ls_model_providers.conformance._checks.options__extra_40": "header names are case-blind",
    "ls_model_providers._secrets.xǁScrubberǁ_scrub__mutmut_28": "every span comes from a form in _forms: the default is never used",
    "ls_model_providers._secrets.xǁScrubberǁ_scrub__mutmut_30": "as _scrub_28",
    "ls_model_providers._engine.xǁConfigǁ__init____mutmut_34": "the memo's first text is never read: no URL object is None, so the first call writes its own",
    "ls_model_providers._engine.xǁConfigǁshown_url__mutmut_2": "a text is never the URL object: the memo is bypassed and str(url) computed again, equal",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_29": "the merged-headers cache rebuilt on every call: the same headers",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_32": "as request_29: the cache key never matches, the headers are rebuilt equal",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_43": "the parsed-URL cache bypassed: the same URL parsed again",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_44": "as request_43",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_46": "the URL cache cleared at 257 entries instead of 256: a bound on memory, not a behaviour",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_53": "as_dict() of the same Timeout: an equal dict",
    "ls_model_providers._engine.xǁConfigǁrequest__mutmut_67": "httpx upper-cases the method",
    "ls_model_providers._engine.xǁCallǁ_authorization__mutmut_24": "after a successful refresh current_bearer() is never None: the '' is never reached",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_4": "reader is set before any use that reads it ('' and None are both false there)",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_47": "retryable None is as false as False",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_53": "the reader's messages quote only coding names it knows and zlib's text, nothing the server chose",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_55": "as _read_53",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_56": "as _read_53 (and header names are case-blind)",
    "ls_model_providers._engine.xǁCallǁ_read__mutmut_79": "only the debug line's figure (its log call is counted as text)",
    "ls_model_providers._engine.xǁCallǁ_transport_failure__mutmut_9": "header names are case-blind",
    "ls_model_providers._engine.xǁCallǁ_transport_failure__mutmut_15": "retryable None is as false as False",
    "ls_model_providers._engine.xǁCallǁ_transport_failure__mutmut_24": "at the deadline no retry fits (may_retry needs elapsed + delay < deadline)",
    "ls_model_providers._engine.xǁCallǁ_transport_failure__mutmut_75": "retryable None is as false as False",
    "ls_model_providers._engine.<module>__extra_3": "Step is a type alias only annotations read, and they are not evaluated",
    "ls_model_providers._engine.<module>__extra_7": "as extra_3 (Flow)",
    "ls_model_providers._auth.x__server_time__mutmut_4": 'get("date", None) only differs with no Date; parsedate_to_datetime(None) raises, caught -> None',
    "ls_model_providers._auth.x__server_time__mutmut_6": 'get("date") defaults to None: with no Date, parsedate_to_datetime(None) raises, caught -> None',
    "ls_model_providers._auth.x__server_time__mutmut_8": 'answer.headers is an httpx.Headers: "DATE" and "date" look up the same header',
    "ls_model_providers._auth.x__server_time__mutmut_9": 'default used only without Date; parsedate_to_datetime("XXXX") raises ValueError like "": None',
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁaccept__mutmut_25": "the name only goes into check_api_key's ValueError text, which accept catches and drops",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁaccept__mutmut_27": "the name only goes into check_api_key's ValueError text, which accept catches and drops",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁaccept__mutmut_28": "the name only goes into check_api_key's ValueError text, which accept catches and drops",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁaccept__mutmut_29": "the name only goes into check_api_key's ValueError text, which accept catches and drops",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁaccept__mutmut_46": "generation is only compared for equality; -= 1 still gives a new value on every refresh",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁaccept__mutmut_47": "generation is only compared for equality; += 2 still gives a new value on every refresh",
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁauth_flow__mutmut_17": 'httpx.Request upper-cases the method: "post" is sent as POST',
    "ls_model_providers._auth.xǁPersonalAccessTokenAuthǁauth_flow__mutmut_33": "httpx.Headers sets case-insensitively and HTTP field names are case-insensitive (RFC 9110)",
    "ls_model_providers._args.x_check_base_url__mutmut_40": 'a query or fragment always puts "?" or "#" in str(base_url), which the same condition also tests',
    "ls_model_providers._args.x__host_problem__mutmut_13": 'codec names are case-insensitive: bytes.decode("ASCII") is the same codec as "ascii"',
    "ls_model_providers._args.x__host_problem__mutmut_26": 'codec names are case-insensitive: str.encode("ASCII") is the same codec as "ascii"',
    "ls_model_providers._args.x__host_problem__mutmut_28": 'codec names are case-insensitive: codecs.lookup("IDNA") is the idna codec',
    "ls_model_providers._args.x__host_problem__mutmut_31": "the ValueError is caught at once and its argument never read; the message uses host",
    "ls_model_providers._args.<module>__extra_4": "httpx lowercases raw_host; only %XX escapes add capitals and % fails the regex either way",
    "ls_model_providers._secrets.x__json_text__mutmut_2": "stripping more whitespace only lets loads see text it rejects: JSON allows just space, tab, CR, LF",
    "ls_model_providers._secrets.x__json_text__mutmut_3": "text starting with {/[ but not ending in }/] (or the reverse) is never valid JSON: loads rejects it",
    "ls_model_providers._secrets.xǁScrubberǁ__init____mutmut_4": "a version of None is never equal to the memo's -1, and add/discard replace it with a fresh count",
    "ls_model_providers._secrets.xǁScrubberǁ__init____mutmut_7": 'memo (1, "", ""): a hit needs text "", whose scrubbed result is "" anyway',
    "ls_model_providers._secrets.xǁScrubberǁ__init____mutmut_8": 'as __init___7: memo (2, "", "") can only answer "" for "", which scrubs to ""',
    "ls_model_providers._secrets.xǁScrubberǁ__init____mutmut_9": "the initial memo's version -1 is never a scrubber's version: its text is never compared",
    "ls_model_providers._secrets.xǁScrubberǁ__init____mutmut_10": "as __init___9: the initial memo never matches, so its result is never returned",
    "ls_model_providers._secrets.xǁScrubberǁ__call____mutmut_3": "memo[1] (a str) never equals the version (an int): the memo is never used, every text scrubbed afresh",
    "ls_model_providers._secrets.xǁScrubberǁ__call____mutmut_10": "a text of exactly 2048 characters is scrubbed again instead of recalled: the same result",
    "ls_model_providers._secrets.xǁScrubberǁ_spans__mutmut_42": "default None instead of 0: both are false for the 'if length' right after",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_24": "every form of a held secret is indexed under its prefix and length: the default is never used",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_26": "as discard_24: the length is always in the bucket, the default is never used",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_29": "an empty length entry left in a bucket matches nothing, as a missing one (memory only)",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_31": "as discard_24: an emptied length is always in its bucket, pop always finds it",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_33": "an empty bucket left in the index matches nothing, as a missing one (memory only)",
    "ls_model_providers._secrets.xǁScrubberǁdiscard__mutmut_35": "a bucket is emptied by the last form under its prefix: the prefix is always there to pop",
    "ls_model_providers._secrets.<module>__extra_66": "_JSON_WHITESPACE None strips all white space: the extra text it lets through is text loads rejects",
    "ls_model_providers._secrets.<module>__extra_67": "stripping X too only lets loads see text with X outside the brackets, which it rejects",
    "ls_model_providers._secrets.<module>__extra_74": "\\x1B and \\x1b are the same escape in a regex",
    "ls_model_providers._secrets.<module>__extra_76": "both ways of finding forms give the same spans (tests check both sides of the threshold)",
    "ls_model_providers._secrets.<module>__extra_78": "a text of exactly 2048 characters is scrubbed again instead of recalled: the same result",
    "ls_model_providers._secrets.<module>__extra_84": "a ContextVar's name is only shown in its repr",
    "ls_model_providers._secrets.<module>__extra_85": "as extra_84",
    "ls_model_providers._secrets.x_redact__mutmut_44": "ensure_ascii=None is as false as False",
}


# -- mutants: names, where they are, what they change ------------------------------------------
@dataclass
class Mutant:
    name: str
    module: str  # the file, relative to the package
    line: int
    change: str  # "old -> new", one line
    text_only: bool
    status: str = "not run"


def _one_line(code: str, limit: int = 70) -> str:
    text = " ".join(code.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
REPORT_TEXT_CALLS = {"Finding": 1, "ok": 0, "note": 0}  # first argument that is text
REPORT_TEXT_NAMES = {"problems", "summary", "what", "form"}


class _Describer:
    """Says where each mutation of one file is and whether it only changes message text."""

    def __init__(self, module_path: Path, cst_module: Any, namespace: dict[str, Any]) -> None:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

        self.cst = cst
        self.module = cst_module
        self.report_text = module_path.as_posix().endswith("conformance/_checks.py")
        wrapper = MetadataWrapper(cst_module, unsafe_skip_copy=True)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self.positions = wrapper.resolve(PositionProvider)
        self.namespace = namespace

    def line(self, node: Any) -> int:
        return int(self.positions[node].start.line)

    def change(self, mutation: Any) -> str:
        old = self.module.code_for_node(mutation.original_node)
        new = self.module.code_for_node(mutation.mutated_node)
        return f"{_one_line(old)}  ->  {_one_line(new)}"

    def _is_exception(self, name: str) -> bool:
        value = self.namespace.get(name)
        return isinstance(value, type) and issubclass(value, BaseException)

    def _in_log_call(self, node: Any) -> bool:
        cst = self.cst
        while node is not None and not isinstance(node, cst.SimpleStatementLine):
            func = node.func if isinstance(node, cst.Call) else None
            if isinstance(func, cst.Attribute) and func.attr.value in LOG_METHODS:
                return bool(_names(func.value) & {"log"})
            node = self.parents.get(node)
        return False

    def _in_exception_message(self, node: Any, mutated: Any) -> bool:
        """A change to the message (first positional argument) of an exception, and nothing
        else: inside that argument, or the call with only that argument changed."""
        cst = self.cst

        def is_exception_call(call: Any) -> bool:
            return (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and self._is_exception(call.func.value)
            )

        if is_exception_call(node) and isinstance(mutated, cst.Call):
            first = node.args[0] if node.args and node.args[0].keyword is None else None
            rest = [a for a in node.args if a is not first]
            return first is not None and all(
                any(a.deep_equals(b) for b in mutated.args) for a in rest
            )
        child, parent = node, self.parents.get(node)
        while parent is not None and not isinstance(parent, cst.SimpleStatementLine):
            if is_exception_call(parent) and isinstance(child, cst.Arg):
                return child.keyword is None and list(parent.args).index(child) == 0
            child, parent = parent, self.parents.get(parent)
        return False

    def text_only(self, mutation: Any) -> bool:
        cst = self.cst
        node = mutation.original_node
        if self._in_log_call(node):  # a log call does nothing but say something
            return True
        if self._in_exception_message(node, mutation.mutated_node):
            return True
        if not isinstance(node, cst.SimpleString):
            return False
        child, parent = node, self.parents.get(node)
        while parent is not None:
            if isinstance(parent, cst.Raise):
                return True
            if isinstance(parent, cst.Call) and isinstance(child, cst.Arg):
                func = parent.func
                name = func.value if isinstance(func, cst.Name) else None
                attr = func.attr.value if isinstance(func, cst.Attribute) else None
                position = list(parent.args).index(child)
                if child.keyword is None and name is not None and self._is_exception(name):
                    return True
                if attr in LOG_METHODS and _names(func.value) & {"log", "logger", "logging"}:
                    return True
                if self.report_text:
                    first = REPORT_TEXT_CALLS.get(name or "")
                    if first is not None and child.keyword is None and position >= first:
                        return True
                    if attr == "append" and _names(func.value) & REPORT_TEXT_NAMES:
                        return True
            if self.report_text and isinstance(parent, cst.Assign | cst.AugAssign | cst.AnnAssign):
                targets = (
                    [t.target for t in parent.targets]
                    if isinstance(parent, cst.Assign)
                    else [parent.target]
                )
                if any(_names(t) & REPORT_TEXT_NAMES for t in targets):
                    return True
            if isinstance(parent, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                return False
            child, parent = parent, self.parents.get(parent)
        return False


def _names(node: Any) -> set[str]:
    import libcst as cst

    return {node.value} if isinstance(node, cst.Name) else set()


def _import_module(relative: str) -> ModuleType:
    import importlib

    dotted = PACKAGE + "." + relative.removesuffix(".py").replace("/", ".")
    return importlib.import_module(dotted)


def _mutations(path: Path, *, extra: bool) -> tuple[Any, list[Any]]:
    """mutmut's mutations of a file (``extra``: those mutmut does not run itself)."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper
    from mutmut.mutation.file_mutation import MutationVisitor
    from mutmut.mutation.mutators import mutation_operators
    from mutmut.mutation.pragma_handling import get_ignored_lines

    class EveryFunction(MutationVisitor):  # type: ignore[misc]
        """mutmut's visitor, also entering decorated functions (their decorators stay)."""

        def _skip_node_and_children(self, node: Any) -> bool:
            if extra and isinstance(node, cst.FunctionDef) and node.decorators:
                return False
            return bool(super()._skip_node_and_children(node))

    code = path.read_text()
    wrapper = MetadataWrapper(cst.parse_module(code))
    visitor = EveryFunction(mutation_operators, get_ignored_lines(str(path), code, wrapper))
    module = wrapper.visit(visitor)
    return module, list(visitor.mutations)


def mutmut_mutants(stage: Path, relative: str) -> list[Mutant]:
    """mutmut's mutants of one module, named as mutmut names them, described and classified."""
    from mutmut.mutation.trampoline_templates import mangle_function_name

    path = stage / "src" / PACKAGE / relative
    module, mutations = _mutations(path, extra=False)
    describer = _Describer(path, module, vars(_import_module(relative)))
    classes = {
        method: statement.name.value
        for statement in module.body
        if type(statement).__name__ == "ClassDef" and hasattr(statement.body, "body")
        for method in statement.body.body
    }
    dotted = PACKAGE + "." + relative.removesuffix(".py").replace("/", ".")
    counters: dict[Any, int] = defaultdict(int)
    found = []
    for mutation in mutations:
        function = mutation.contained_by_top_level_function
        if type(function).__name__ != "FunctionDef":
            continue  # class-level statements: mutmut makes no trampoline for them
        counters[function] += 1
        mangled = mangle_function_name(name=function.name.value, class_name=classes.get(function))
        found.append(
            Mutant(
                name=f"{dotted}.{mangled}__mutmut_{counters[function]}",
                module=relative,
                line=describer.line(mutation.original_node),
                change=describer.change(mutation),
                text_only=describer.text_only(mutation),
            )
        )
    return found


# -- phase 1: stage a copy and let mutmut run ----------------------------------------------------
def stage(group: Group, keep: bool) -> Path:
    where = STAGE / group.name
    if where.exists() and not keep:
        shutil.rmtree(where)
    if not where.exists():
        where.mkdir(parents=True)
        shutil.copytree(
            ROOT / "wrapper", where / "src", ignore=shutil.ignore_patterns("__pycache__")
        )
        for folder in ("tests", "generated", "openapi"):
            shutil.copytree(
                ROOT / folder, where / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
        shutil.copy2(ROOT / "README.md", where / "README.md")  # tests check it says the limits
        (where / "_fast_first.py").write_text(FAST_FIRST)
        only = [f"src/{PACKAGE}/{module}" for module in group.modules]
        settings = (
            "\n[tool.mutmut]\n"
            'source_paths = ["src"]\n'
            f"only_mutate = {json.dumps(only)}\n"
            'also_copy = ["generated/", "openapi/", "_fast_first.py", "README.md"]\n'
            f"pytest_add_cli_args_test_selection = {json.dumps(list(group.tests))}\n"
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "_fast_first"]\n'
            # A mutant that loops (retrying until a 120 s deadline) is stopped sooner.
            "timeout_multiplier = 4.0\n"
        )
        (where / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + settings)
    return where


#: A pytest plugin for the staged runs: the tests on real sockets, which wait in real time,
#: run last, so the first failing test (``-x``) is usually a quick one.
FAST_FIRST = """
SLOW = ("tests/test_hostile.py", "tests/test_tls.py", "tests/test_conformance")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.nodeid.startswith(SLOW))
"""

#: Workers: the real-socket tests mostly wait, so four keep two cores busy.
WORKERS = 4


def run_mutmut(where: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(WORKERS)],
        cwd=where, env={**os.environ, "HYPOTHESIS_PROFILE": "mutation"}, check=True,
    )  # fmt: skip


def mutmut_statuses(where: Path, relative: str) -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    meta = where / "mutants" / "src" / PACKAGE / (relative + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


# -- phase 2: what mutmut does not mutate ------------------------------------------------------
@dataclass
class Extra:
    """A mutant of module-level code or of a decorated function, and how to put it in place."""

    mutant: Mutant
    statement: str  # the mutated source: a function without decorators, a class, a statement
    owner: str | None  # the class of a decorated method
    function: str | None  # the decorated function's name
    reads: frozenset[str] = frozenset()  # module-level names it binds (else: a function)


def extra_mutants(stage_dir: Path, relative: str) -> list[Extra]:
    import libcst as cst
    from mutmut.mutation.file_mutation import deep_replace

    path = stage_dir / "src" / PACKAGE / relative
    module, mutations = _mutations(path, extra=True)
    namespace = vars(_import_module(relative))
    describer = _Describer(path, module, namespace)
    dotted = PACKAGE + "." + relative.removesuffix(".py").replace("/", ".")
    top_of: dict[Any, tuple[Any, Any | None]] = {}
    for statement in module.body:
        for node in _walk(statement):
            top_of[node] = (statement, None)
        if isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for inner in statement.body.body:
                for node in _walk(inner):
                    top_of[node] = (inner, statement)
    found: list[Extra] = []
    counters: dict[str, int] = defaultdict(int)
    for mutation in mutations:
        function = mutation.contained_by_top_level_function
        if isinstance(function, cst.FunctionDef) and _mutmut_runs(function):
            continue
        statement, owner = top_of[mutation.original_node]
        if _not_behaviour(statement, module.code_for_node(statement)):
            continue
        is_function = isinstance(statement, cst.FunctionDef)
        if is_function:  # a decorated function: its code is swapped, its decorators kept
            mutated = deep_replace(statement, mutation.original_node, mutation.mutated_node)
            source = module.code_for_node(mutated.with_changes(decorators=[]))
            where = (owner.name.value + "." if owner is not None else "") + statement.name.value
            binds: frozenset[str] = frozenset()
        elif owner is not None:  # in a class body: the class is built again (attrs fields)
            source = module.code_for_node(
                deep_replace(owner, mutation.original_node, mutation.mutated_node)
            )
            where = owner.name.value
            binds = frozenset({owner.name.value})
        else:  # module-level data: the statement is run again in the module
            source = module.code_for_node(
                deep_replace(statement, mutation.original_node, mutation.mutated_node)
            )
            where = "<module>"
            binds = frozenset(_bound_names(statement))
        counters[where] += 1
        found.append(
            Extra(
                mutant=Mutant(
                    name=f"{dotted}.{where}__extra_{counters[where]}",
                    module=relative,
                    line=describer.line(mutation.original_node),
                    change=describer.change(mutation),
                    text_only=describer.text_only(mutation),
                ),
                statement=source,
                owner=owner.name.value if owner is not None and is_function else None,
                function=statement.name.value if is_function else None,
                reads=binds,
            )
        )
    return found


def _mutmut_runs(function: Any) -> bool:
    """mutmut makes trampolines for undecorated functions, static and class methods."""
    import libcst as cst

    decorators = [d.decorator for d in function.decorators]
    return not decorators or (
        len(decorators) == 1
        and isinstance(decorators[0], cst.Name)
        and decorators[0].value in ("staticmethod", "classmethod")
    )


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _bound_names(statement: Any) -> Iterator[str]:
    import libcst as cst

    for node in _walk(statement):
        if isinstance(node, cst.AssignTarget | cst.AnnAssign) and isinstance(node.target, cst.Name):
            yield node.target.value
        elif isinstance(node, cst.ClassDef | cst.FunctionDef):
            yield node.name.value


def _not_behaviour(statement: Any, source: str) -> bool:
    """``__all__``, ``__slots__`` and type variables: nothing a caller can observe."""
    if set(_bound_names(statement)) & {"__all__", "__slots__"}:
        return True
    return bool(re.search(r"=\s*TypeVar\(", source))


def _apply(extra: Extra, module: ModuleType) -> None:
    """Put the mutant in place in the imported module (in a forked child: never undone)."""
    flags = __future__.annotations.compiler_flag
    code = compile(
        extra.statement, module.__file__ or "<mutant>", "exec", flags=flags, dont_inherit=True
    )
    if extra.function is not None:
        scratch = dict(vars(module))
        exec(code, scratch)  # noqa: S102 - the mutant's own source
        new = scratch[extra.function].__code__
        holder = getattr(module, extra.owner) if extra.owner else module
        raw = inspect.getattr_static(holder, extra.function)
        if isinstance(raw, property):
            raw = raw.fget
        elif isinstance(raw, staticmethod | classmethod):
            raw = raw.__func__
        inspect.unwrap(raw).__code__ = new
        return
    old = {name: vars(module).get(name) for name in extra.reads}
    exec(code, vars(module))  # noqa: S102
    for name, before in old.items():  # `from ._secrets import X` elsewhere: the same object
        after = vars(module)[name]
        for other in list(sys.modules.values()):
            space = getattr(other, "__dict__", None)
            ours = (getattr(other, "__name__", "") or "").startswith((PACKAGE, "tests"))
            shared = isinstance(space, dict) and space.get(name) is before
            if ours and shared and other is not module:
                assert isinstance(space, dict)
                space[name] = after


class _Calls:
    """Which test called which code of the target modules (a profile hook, set per test)."""

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.current: str | None = None
        self.by_test: dict[str, set[CodeType]] = defaultdict(set)
        self.duration: dict[str, float] = defaultdict(float)

    def hook(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" and self.current is not None and frame.f_code.co_filename in self.files:
            self.by_test[self.current].add(frame.f_code)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Iterator[None]:
        self.current = item.nodeid
        start = time.monotonic()
        try:
            return (yield)
        finally:
            self.duration[item.nodeid] += time.monotonic() - start
            self.current = None


def _reads(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _reads(const)
    return names


def run_extra(group: Group, where: Path, results_path: Path) -> None:
    """Phase 2, in its own process: the staged source on sys.path, cwd the stage."""
    import threading

    import pytest

    os.chdir(where)
    sys.path.insert(0, str(where / "src"))
    sys.path.insert(0, str(where))
    modules = {relative: _import_module(relative) for relative in group.modules}
    extras = [e for relative in group.modules for e in extra_mutants(where, relative)]
    files = {str(Path(m.__file__ or "").resolve()) for m in modules.values()}
    calls = _Calls(files)
    sys.setprofile(calls.hook)
    threading.setprofile(calls.hook)
    base = ["--rootdir=.", "-q", "-p", "no:cacheprovider", "-p", "_fast_first", "--tb=short"]
    # The package is imported above, before pytest loads its plugin entry point.
    base += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    code = pytest.main([*base, *group.tests], plugins=[calls])
    sys.setprofile(None)
    threading.setprofile(None)
    if code != 0:
        raise SystemExit(f"the tests fail without any mutant (exit {code})")
    pending = []
    for extra in extras:
        if extra.mutant.text_only:
            extra.mutant.status = "text (not run)"
            continue
        module = modules[extra.mutant.module]
        wanted = _tests_reaching(extra, module, calls)
        if not wanted:
            extra.mutant.status = "no tests"
            continue
        pending.append((extra, module, wanted))
    _run_forked(pending, calls, base)
    results_path.write_text(json.dumps([e.mutant.__dict__ for e in extras], indent=1))


def _tests_reaching(extra: Extra, module: ModuleType, calls: _Calls) -> list[str]:
    """The tests that ran the mutated function, or code of the module reading the rebound
    names (a class: its methods too); all that reached the module when none does."""
    target = str(Path(module.__file__ or "").resolve())

    def relevant(code: CodeType) -> bool:
        if extra.function is not None:
            qualname = f"{extra.owner}.{extra.function}" if extra.owner else extra.function
            return code.co_qualname == qualname or code.co_qualname.startswith(qualname + ".")
        owners = tuple(name + "." for name in extra.reads)
        return bool(_reads(code) & extra.reads) or code.co_qualname.startswith(owners)

    reached = {
        t: [c for c in codes if c.co_filename == target] for t, codes in calls.by_test.items()
    }
    tests = [t for t, codes in reached.items() if any(relevant(c) for c in codes)]
    if not tests and extra.function is None:
        tests = [t for t, codes in reached.items() if codes]
    return sorted(tests, key=lambda t: calls.duration[t])  # quick ones first: -x stops early


NOT_APPLIED = 97


def _run_forked(
    pending: list[tuple[Extra, ModuleType, list[str]]], calls: _Calls, base: list[str]
) -> None:
    import pytest

    running: dict[int, tuple[Extra, float]] = {}

    def reap(block: bool) -> None:
        while running:
            for pid, (extra, deadline) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    code = os.waitstatus_to_exitcode(status)
                    extra.mutant.status = (
                        "survived"
                        if code == 0
                        else "not applied"
                        if code == NOT_APPLIED
                        else "killed"
                    )
                    del running[pid]
                elif time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    extra.mutant.status = "timeout"
                    del running[pid]
            if not block or len(running) < WORKERS:
                return
            with contextlib.suppress(OSError):
                select.select([], [], [], 0.05)

    for extra, module, tests in pending:
        reap(block=True)
        budget = 30.0 + 10 * sum(calls.duration[t] for t in tests)
        pid = os.fork()
        if pid == 0:  # the child: the mutant in place, then its tests
            code = 3
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                try:
                    _apply(extra, module)
                except Exception:  # noqa: BLE001 - reported as such, never as a kill
                    # A module-level statement that raises would fail the import: killed.
                    code = NOT_APPLIED if extra.function is not None else 1
                else:
                    code = int(pytest.main([*base, "-x", "--tb=no", *tests]))
            finally:
                os._exit(code)
        running[pid] = (extra, time.monotonic() + budget)
    while running:
        reap(block=False)
        time.sleep(0.05)


# -- the table -------------------------------------------------------------------------------------
KILLED = {"killed", "timeout", "segfault", "caught by type check"}


@dataclass
class Row:
    module: str
    mutants: int = 0
    text: int = 0
    equivalent: int = 0
    killed: int = 0
    survived: list[Mutant] = field(default_factory=list)


def table(rows: list[Row]) -> str:
    head = (
        f"{'module':<24} {'mutants':>7} {'text':>5} {'killed':>6} {'survived':>8} "
        f"{'equiv.':>6} {'score':>7} {'w/o equiv.':>10}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        counted = row.mutants - row.text
        score = 100 * row.killed / counted if counted else 100.0
        without = counted - row.equivalent
        score_eq = 100 * row.killed / without if without else 100.0
        lines.append(
            f"{row.module:<24} {row.mutants:>7} {row.text:>5} {row.killed:>6} "
            f"{len(row.survived):>8} {row.equivalent:>6} {score:>6.1f}% {score_eq:>9.1f}%"
        )
    return "\n".join(lines)


def _breaks_import(mutant: Mutant) -> bool:
    """A module-level or class-body mutant that raised when run would fail the import."""
    scope = mutant.name.rsplit(".", 1)[1].split("__extra_")[0]
    return scope == "<module>" or scope[:1].isupper()


def tally(relative: str, mutants: list[Mutant]) -> Row:
    row = Row(relative)
    for mutant in mutants:
        row.mutants += 1
        if mutant.text_only:
            row.text += 1
        elif mutant.status in KILLED or (mutant.status == "not applied" and _breaks_import(mutant)):
            row.killed += 1
        else:
            row.survived.append(mutant)
            if mutant.name in EQUIVALENT:
                row.equivalent += 1
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=[g.name for g in GROUPS], action="append")
    parser.add_argument(
        "--module", action="append", help="only this module of the group (repeatable)"
    )
    parser.add_argument("--keep", action="store_true", help="reuse the staged copy and results")
    parser.add_argument("--survivors", action="store_true", help="list the text-only survivors too")
    parser.add_argument("--report", action="store_true", help="print the last run's table")
    parser.add_argument("--extra-phase", help=argparse.SUPPRESS)  # internal: phase 2's process
    args = parser.parse_args(argv)
    if args.extra_phase:
        group = _narrowed(next(g for g in GROUPS if g.name == args.extra_phase), args.module)
        where = STAGE / group.name
        run_extra(group, where, where / "extra-results.json")
        return 0
    started = time.monotonic()
    rows: list[Row] = []
    for whole in GROUPS:
        if args.group and whole.name not in args.group:
            continue
        group = _narrowed(whole, args.module)
        if not group.modules:
            continue
        where = STAGE / group.name if args.report else stage(group, args.keep)
        if not args.report:
            _run_phases(whole.name, args.module, where)
        extra = json.loads((where / "extra-results.json").read_text())
        with _in(where):
            sys.path[:0] = [str(where / "src"), str(where)]
            for relative in group.modules:
                mutants = mutmut_mutants(where, relative)
                statuses = mutmut_statuses(where, relative)
                for mutant in mutants:
                    mutant.status = statuses.get(mutant.name, "not run")
                mutants += [Mutant(**m) for m in extra if m["module"] == relative]
                rows.append(tally(relative, mutants))
    print()
    print(table(rows))
    print()
    listed = {m.name for row in rows for m in row.survived}
    for row in rows:
        for mutant in row.survived:
            why = EQUIVALENT.get(mutant.name)
            mark = f"equivalent: {why}" if why else mutant.status
            print(f"  {mutant.module}:{mutant.line} {mutant.name.rsplit('.', 1)[1]} [{mark}]")
            print(f"      {mutant.change}")
    stale = sorted(set(EQUIVALENT) - listed)
    if stale and not args.group:
        print(f"\nlisted as equivalent but no longer surviving: {', '.join(stale)}")
    print(f"\n{(time.monotonic() - started) / 60:.1f} minutes")
    return 0 if all(_score(row) >= 90 for row in rows) else 1


def _narrowed(group: Group, modules: list[str] | None) -> Group:
    """``group`` with only ``modules`` (staged apart: the whole group's results stay)."""
    if not modules:
        return group
    chosen = tuple(m for m in group.modules if m in modules)
    stems = "-".join(Path(m).stem.strip("_") for m in chosen)
    return Group(f"{group.name}-only-{stems}", chosen, group.tests)


def _run_phases(group: str, modules: list[str] | None, where: Path) -> None:
    run_mutmut(where)
    only = [f"--module={m}" for m in modules or []]
    subprocess.run(
        [sys.executable, __file__, "--extra-phase", group, *only],
        cwd=where, env={**os.environ, "HYPOTHESIS_PROFILE": "mutation"}, check=True,
    )  # fmt: skip


def _score(row: Row) -> float:
    counted = row.mutants - row.text - row.equivalent
    return 100 * row.killed / counted if counted else 100.0


@contextlib.contextmanager
def _in(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


if __name__ == "__main__":
    raise SystemExit(main())
