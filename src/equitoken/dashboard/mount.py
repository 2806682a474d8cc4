"""Serve the dashboard's static files from the package, behind a strict content security policy."""

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"

# Everything the pages load comes from this origin; no inline script or style, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class _DashboardFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        # The pages change with the package; revalidating keeps a browser from mixing versions.
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at `/`; call it after the API's routes are added, since `/` matches all paths."""
    app.mount("/", _DashboardFiles(directory=STATIC_DIR, html=True), name="dashboard")
