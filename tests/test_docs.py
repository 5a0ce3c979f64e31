"""The documentation: every relative link resolves, the README stays short, and every
figure's grid and report it cites exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "results/benchmarks.md"]


def test_every_relative_link_resolves():
    broken = []
    for md in DOCS:
        for m in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", md.read_text()):
            target = m.group(1)
            local = not target.startswith(("http://", "https://", "mailto:"))
            if local and not (md.parent / target).exists():
                broken.append(f"{md.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_every_cited_grid_is_declared_and_reported():
    cited = set()
    for md in DOCS:
        cited |= set(re.findall(r"anrc experiment ([a-z0-9-]+) ", md.read_text()))
    cited -= {"NAME"}
    missing = [g for g in sorted(cited) if not (ROOT / "experiments" / f"{g}.toml").is_file()]
    assert missing == []


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
