"""mount_dashboard serves the packaged pages at `/` without shadowing the API's routes."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from equitoken.dashboard import mount_dashboard
from equitoken.dashboard.mount import CONTENT_SECURITY_POLICY, STATIC_DIR


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    mount_dashboard(app)
    return app


def test_root_serves_the_page_with_a_strict_content_security_policy() -> None:
    client = TestClient(_app())

    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/main.js">' in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_modules_and_styles_are_served_with_their_types() -> None:
    client = TestClient(_app())

    script = client.get("/js/main.js")
    style = client.get("/app.css")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.headers["content-type"].startswith("text/css")


def test_api_routes_added_before_the_mount_still_answer() -> None:
    client = TestClient(_app())

    assert client.get("/api/v1/ping").json() == {"pong": "yes"}


def test_an_unknown_file_is_404_and_nothing_outside_the_package_is_served() -> None:
    client = TestClient(_app())

    assert client.get("/js/missing.js").status_code == 404
    assert client.get("/../mount.py").status_code == 404
    assert client.get("/%2e%2e/mount.py").status_code == 404


def test_every_module_the_pages_import_is_shipped() -> None:
    # A page importing a module that is not in the package would only fail in a browser.
    modules = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js")}
    for module in STATIC_DIR.rglob("*.js"):
        for line in module.read_text().splitlines():
            if line.startswith("import ") and " from " in line:
                target = line.rsplit(" from ", 1)[1].strip(" \";'")
                resolved = (module.parent / target).resolve().relative_to(STATIC_DIR.resolve()).as_posix()
                assert resolved in modules, f"{module.name} imports missing {target}"
