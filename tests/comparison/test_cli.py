"""`equitoken compare`: writes both files, the same bytes for the same inputs, a well-formed page
that needs nothing from the network; bad arguments refused with a clear error and nothing written."""

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from typer.testing import CliRunner

from equitoken.cli import app

SHORT = ["--start", "2025-11-17", "--end", "2025-11-18", "--model", "cfd", "--ticker", "NFLX"]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Run the same comparison twice, the second time with `--json`; return both directories and what
    the second printed."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    result = CliRunner().invoke(app, ["compare", *SHORT, "--out", str(first)])
    assert result.exit_code == 0, result.output
    assert f"wrote {first / 'compare.json'} and {first / 'compare.html'}" in result.stdout
    printed = CliRunner().invoke(app, ["compare", *SHORT, "--out", str(second), "--json"])
    assert printed.exit_code == 0, printed.output
    return first, second, printed.stdout


def test_compare_writes_the_json_and_the_html(written: tuple[Path, Path, str]) -> None:
    out = written[0]
    report = json.loads((out / "compare.json").read_text())
    assert report["schema"] == "equitoken.compare/1"
    models = {m["model"]: m for m in report["models"]}
    assert list(models) == ["cfd"]
    assert models["cfd"]["status"] == "run"
    assert models["cfd"]["tracking"]["NFLX"]["samples"] == 48
    assert report["period"]["splits"][0]["token_multiplier_after"] == "10"
    assert (out / "compare.html").stat().st_size > 1_000


def test_the_same_inputs_give_the_same_bytes(written: tuple[Path, Path, str]) -> None:
    first, second, _printed = written
    for name in ("compare.json", "compare.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_json_prints_the_report_it_writes(written: tuple[Path, Path, str]) -> None:
    _first, second, printed = written
    assert json.loads(printed) == json.loads((second / "compare.json").read_text())


def test_the_html_is_well_formed_and_self_contained(written: tuple[Path, Path, str]) -> None:
    page = (written[0] / "compare.html").read_text()
    root = ElementTree.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    namespace = "{http://www.w3.org/1999/xhtml}"
    assert root.tag == f"{namespace}html"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}svg")) == 1  # one chart per model and ticker
    for external in ("<script", "<link", "@import", "<img", "<iframe"):
        assert external not in page
    # The only URLs are the XML namespaces of the markup itself.
    urls = set(re.findall(r"https?://[^\"' )]+", page))
    assert urls == {"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--start", "2025-11-28", "--end", "2025-11-17"],
            "the end 2025-11-17 is before the start 2025-11-28",
        ),
        (["--start", "2026-05-26", "--end", "2026-06-05"], "no replayed bar of NFLX on 2026-06-01"),
        (["--start", "2031-01-06", "--end", "2031-01-09"], "outside the XNYS calendar"),
        (["--ticker", "ZZZZ"], "ZZZZ is not in the issuer's catalogue"),
        (["--ticker", "HOOD"], "HOOD is a restricted token"),
        (["--model", "bonds"], "unknown model bonds"),
        (["--start", "17/11/2025"], "dates are YYYY-MM-DD"),
        (["--gas-price-gwei", "-1"], "--gas-price-gwei must be a non-negative"),
        (
            ["--start", "2025-11-22", "--end", "2025-11-23"],
            "no trading session from 2025-11-22 to 2025-11-23",
        ),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["compare", *arguments, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()
