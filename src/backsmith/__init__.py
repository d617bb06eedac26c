"""backsmith: a production backend served from an OpenAPI contract and a DBML model."""

__version__ = "0.7.9"
