"""``ls-model-providers spec-diff``: can a deployment's OpenAPI schema send what the fragment
rejects? The rules are the drift engine's (``toolkit/drift.py``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx

from ls_model_providers._spec import load_spec, spec_path
from ls_model_providers.toolkit.exits import (
    EXIT_FAILED,
    EXIT_NOT_SERVED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigurationError,
    missing_extra,
)
from ls_model_providers.toolkit.options import resolve_url
from ls_model_providers.toolkit.text import printable
from ls_model_providers.toolkit.tls import tls_hint, trust

from ._shared import HELP_FORMAT, add_tls_options, epilog, error, given_file, warn_insecure


def add_parser(commands: Any) -> argparse.ArgumentParser:
    help_text = "can a deployment's OpenAPI schema send what the fragment rejects?"
    sdiff: argparse.ArgumentParser = commands.add_parser(
        "spec-diff", help=help_text, description=help_text, formatter_class=HELP_FORMAT,
        epilog=epilog(
            (0, 1, 2, 3, 5, 130), ("SSL_CERT_FILE, SSL_CERT_DIR", "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY"),
            "ls-model-providers spec-diff --base-url https://ls.example.com",
            "ls-model-providers spec-diff --against their-schema.yaml",
        ),
    )  # fmt: skip
    source = sdiff.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--base-url", help="deployment URL; its schema is read from /docs/api/schema/json/"
    )
    source.add_argument(
        "--against",
        type=given_file,
        help="an OpenAPI document (JSON or YAML): a file or http(s) URL",
    )
    add_tls_options(sdiff)
    return sdiff


def _document_url(text: str) -> str:
    """An http(s) URL of a document, checked as a base URL is (no credentials in it)."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise ConfigurationError("--against is not a valid URL") from None
    if not url.host:
        raise ConfigurationError("--against must be an http(s) URL with a host, or a file")
    if url.userinfo:
        raise ConfigurationError("--against must not contain credentials (user:password@host)")
    return str(url)


def run(args: argparse.Namespace) -> int:
    try:
        from ls_model_providers.toolkit import drift, schemas
    except ImportError as exc:  # PyYAML: the conformance extra
        error(missing_extra("conformance", exc))
        return EXIT_USAGE
    try:
        verify = trust(args.cacert, insecure=args.insecure)
        if args.base_url is not None:  # given empty: refused as such
            base = resolve_url(args.base_url, environ={})
            assert base is not None
            source = base.rstrip("/") + schemas.SCHEMA_PATH
        elif args.against.lower().startswith(("http://", "https://")):
            source = _document_url(args.against)
        else:
            source = args.against
    except ConfigurationError as exc:
        error(str(exc))
        return EXIT_USAGE
    if args.insecure:
        warn_insecure()
    try:
        if source.lower().startswith(("http://", "https://")):
            data = schemas.fetch(source, verify=verify)
        else:
            with open(source, "rb") as handle:  # no more than the limit, even of a huge file
                data = handle.read(schemas.MAX_SCHEMA_BYTES + 1)
        document = schemas.load_document(data)
        changes = drift.compare_documents(load_spec(), document)
    except schemas.Unreachable as exc:
        message = str(exc)
        head, use, suggested = message.rpartition(": use ")
        if args.base_url and use and suggested.endswith(schemas.SCHEMA_PATH):
            # The wrong scheme's hint names the schema's URL; what to change is --base-url.
            message = f"{head}: use --base-url {suggested.removesuffix(schemas.SCHEMA_PATH)}/"
        error(message)
        if "TLS certificate not trusted" in str(exc):
            print(f"  fix: {tls_hint()}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except drift.SchemaError as exc:
        name = source if exc.side == "theirs" else spec_path()
        error(f"malformed schema in {name} at {exc}")
        return EXIT_USAGE
    except (OSError, drift.SpecDiffError) as exc:
        error(f"cannot read {source}: {exc}")
        return EXIT_USAGE
    if changes is None:
        if not schemas.is_label_studio(document):
            error(f"{source} is not Label Studio's schema: it has none of its paths")
            return EXIT_USAGE
        hint = "a Community Edition server, or an Enterprise release without it"
        print(printable(f"{schemas.NOT_IN_SCHEMA} ({source}): {hint}"))
        return EXIT_NOT_SERVED
    breaking = sum(c.breaking for c in changes)
    for change in changes:
        print(printable(str(change)))  # a field name from their schema is one line too
    print(printable(f"{len(changes)} difference(s), {breaking} breaking, against {source}"))
    if breaking:
        print("BREAKING: the deployment may send what the fragment rejects; update openapi/ first")
    return EXIT_FAILED if breaking else EXIT_OK
