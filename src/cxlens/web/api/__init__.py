"""The JSON API: one module per area, each with its ``router``; routes under /api/w/{slug}/
take ``access: TokenScope("read"|"write"|"ingest")``. See docs/web.md, "Adding an endpoint".
"""
