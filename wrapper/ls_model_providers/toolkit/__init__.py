"""What the tools (``conformance``, ``snapshot``, ``mock``, and the ``cli`` on top) share, in
one layer above the client core and below them all. Internal: names here may change between
releases; the tools' own packages are the public surface.

Modules:

- ``exits``: exit codes, the one error-to-exit-code map, the missing-extra message;
- ``options``: defaults and limits, and resolving a target (URL, key, TLS) from options and
  the environment;
- ``tls``: TLS trust, the same for every request a command sends;
- ``guard``: the one path to a deployment (budget, rate, deadline, body limits, rate limits,
  recording, every answer observed);
- ``answers``: reading Label Studio's answers (JSON, ``detail``, its error body, its 404 page);
- ``drift``: the one drift engine (spec-diff, snapshot-diff, ``--baseline``);
- ``schemas``: reading and fetching OpenAPI documents, bounded, and their host-free hash;
- ``text``: text for terminals, reports and reproductions;
- ``files``: the one writer of reports and snapshots.

Imports only the client core and other libraries: never a tool, never the CLI.
"""
