"""The web dashboard: static pages (HTML, CSS, ES modules) served by the API's FastAPI app at `/`."""

from equitoken.dashboard.mount import mount_dashboard

__all__ = ["mount_dashboard"]
