"""A small Django add-on that serves GET /api/model-provider-connections/{id}/ from real
Label Studio 1.23.2 code (loaded by ``lsaddon.settings``; the README section "The real stack" says more).

Real: the ``ModelProviderConnection`` model and its migrated table, ``UserSimpleSerializer``,
DRF, Label Studio's authentication classes (legacy token, personal access token), its
exception handler, middleware, URLconf and drf-spectacular schema view.
Rebuilt here, from the public facts about Enterprise: the serializer, the view set, the
router entry and the role rules (Community has no roles).
"""
