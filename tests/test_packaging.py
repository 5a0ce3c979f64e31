"""Packaging: the licence file matches pyproject, and the Dockerfile's command is one the
CLI accepts (the image itself is not built here: no Docker engine)."""

import json
import re
import tomllib
from pathlib import Path

from anrc.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def test_license_file_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert all(url.startswith("https://") for url in project["urls"].values())


def test_dockerfile_serves_the_shipped_model_with_a_valid_command():
    text = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    assert cmd[:3] == ["anrc", "serve", "semeval"]
    args = build_parser().parse_args(cmd[1:])
    assert args.host == "0.0.0.0" and args.port == 8000
    assert "'.[serve]'" in text and "torch==2.13.0" in text
    assert re.search(r"^USER (?!root)", text, re.M)  # not as root


def test_device_scripts_run_declared_grids_and_leave_what_they_read():
    """scripts/device: both parse; run.sh's default grids are committed grid files whose
    configs (and the package's code) stay in the call, outside what stage.sh sets aside."""
    import re
    import subprocess
    import tomllib

    stage = (ROOT / "scripts/device/stage.sh").read_text()
    run = (ROOT / "scripts/device/run.sh").read_text()
    for script in ("stage.sh", "run.sh"):
        subprocess.run(["bash", "-n", str(ROOT / "scripts/device" / script)], check=True)
    aside = re.search(r"^ASIDE=\(([^)]*)\)", stage, re.M).group(1).split()
    grids = re.search(r'^GRIDS=\$\{GRIDS:-"([^"]*)"\}', run, re.M).group(1).split()
    assert grids
    for name in grids:
        grid = tomllib.loads((ROOT / "experiments" / f"{name}.toml").read_text())
        needed = [grid["config"], "src/anrc/cli", "src/anrc/models", f"experiments/{name}.toml"]
        for path in needed:
            assert (ROOT / path).exists()
            assert not any(path == a or path.startswith(a + "/") for a in aside), path
