"""The platform's REST API (FastAPI): `create_app(ApiContext(...))`; see docs/api.md."""

from equitoken.api.app import API_PREFIX, create_app
from equitoken.api.context import ApiContext
from equitoken.api.keys import ApiKeys, Principal, Role

__all__ = ["API_PREFIX", "ApiContext", "ApiKeys", "Principal", "Role", "create_app"]
