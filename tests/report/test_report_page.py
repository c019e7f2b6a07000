"""The report as a reader gets it: the files it writes, the page's content, and the page
opened in headless Chromium (no console error, no missing asset, the regions shown, a
diagram that is not blank), plus the command line's errors."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from PIL import Image

from infra.cli.main import main
from infra.report import page
from infra.report.browser import open_page


def test_the_folder_holds_everything_the_page_refers_to(report_index):
    html = report_index.read_text()
    referenced = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert referenced == {page.MAP_FILE, page.TIMELINE_FILE, "data:,"}
    for name in (page.MAP_FILE, page.TIMELINE_FILE):
        svg = (report_index.parent / name).read_text()
        # pygal keeps its config in an inline script; nothing is loaded from anywhere.
        assert svg.startswith("<svg") and "<script src" not in svg and "xlink:href=\"http" not in svg
        assert not re.search(r'(?:src|href)="(?:https?:)?//', svg)
    assert "<script" not in html and "https://" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "").replace('xmlns:xlink="http://www.w3.org/1999/xlink"', "")


def test_page_shows_each_stack_its_verdict_cost_and_recovery(report):
    html = report.html
    for stack, cidr in (("us-east", "10.0.0.0/16"), ("eu-west", "10.1.0.0/16"), ("ap-se", "10.2.0.0/16")):
        assert f'id="stack-{stack}"' in html and cidr in html
    assert html.count("PASS") >= 3 and "FAIL" not in html
    assert "255 s (fast profile 195 s) vs 300 s" in html
    assert "lag alarm 30 s, RPO 60 s vs 60 s" in html
    assert all(s.cost.total > 0 for s in report.summaries)
    # Secrets never in clear: the outputs are the redacted ones the plan command shows.
    assert "(known after deploy)" in html


def test_the_diff_is_highlighted_on_the_diagram(report):
    html = unescape(report.html)
    assert re.search(r'<g id="node-us-east_cache" class="node kind-cache node-update"', html)
    assert re.search(r'<g id="node-eu-west_vpc" class="node kind-vpc node-update"', html)
    assert re.search(r'<g id="node-ap-se_health-check" class="node kind-health-check node-update"', html)
    assert re.search(r'class="edge edge-peering edge-create"', html)
    assert "[update: -1]" in html and "[update: +1]" in html
    assert "us-east: +0 to create, ~1 to update, +-0 to replace, -0 to delete" in html


def test_the_page_in_headless_chromium(report_index, tmp_path):
    view = open_page(report_index)
    assert view.console_errors == []
    assert view.broken_assets == []
    for region in ("us-east · us-east-1 · primary", "eu-west · eu-west-1 · secondary",
                   "ap-se · ap-southeast-1 · secondary"):
        assert region.split(" · ")[0] in view.text
    image = Image.open(io.BytesIO(view.screenshot)).convert("RGB")
    left, top, right, bottom = view.diagram_box
    assert right - left > 600 and bottom - top > 200, view.diagram_box
    crop = image.crop((left, top, min(right, image.width), min(bottom, image.height)))
    pixels = list(crop.get_flattened_data())
    coloured = sum(1 for r, g, b in pixels if min(r, g, b) < 235)
    # The drawn diagram covers several percent of its box; a blank or failed one is white.
    assert coloured > 0.03 * len(pixels), f"{coloured} of {len(pixels)} pixels drawn"


def test_a_missing_asset_is_caught(report_index, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "index.html").write_text(report_index.read_text())
    (broken / page.TIMELINE_FILE).write_text((report_index.parent / page.TIMELINE_FILE).read_text())
    view = open_page(broken / "index.html")
    assert view.broken_assets == [page.MAP_FILE]
    assert any(page.MAP_FILE in e for e in view.console_errors)


@pytest.mark.parametrize("args, message", [
    (["--diff", "{tmp}/absent"], "error: --diff {tmp}/absent: no such folder"),
    (["--drill", "{tmp}/absent.json"], "error: --drill {tmp}/absent.json: cannot read it"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    err_stream = io.StringIO()
    code = main(["--no-color", "report", "--out", str(tmp_path / "out"), *args], out=io.StringIO(), err=err_stream)
    err = err_stream.getvalue()
    assert code == 1
    assert err.startswith(message.format(tmp=tmp_path)) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
