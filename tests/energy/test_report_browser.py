"""Open the report in headless Chromium: every table and image renders; save a screenshot.

Needs Debian `chromium` (apt-get install -y chromium); skipped with that reason when absent.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report_page import build_tiny_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian chromium not installed (apt-get install -y chromium)"
)
def test_report_renders_in_chromium(build_root, tmp_path):
    html_path = build_tiny_report()
    url = Path(html_path).resolve().as_uri()
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = dict(re.findall(r'data-([a-z-]+)="(\d+)"', body))
    assert int(attrs["tables"]) >= 8, attrs
    assert int(attrs["images"]) >= 1 and attrs["images-ok"] == attrs["images"], attrs
    shot = html_path.replace("index.html", "screenshot.png")
    subprocess.run(
        [CHROMIUM, *FLAGS, "--window-size=1200,1800", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
