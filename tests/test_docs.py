"""The documentation: every relative link resolves, the README stays short, and every
figure's grid and report it cites exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "results/benchmarks.md"]


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(md: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#+ (.*)$", md.read_text(), flags=re.M)}


def test_every_relative_link_resolves():
    broken = []
    for md in DOCS:
        for m in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", md.read_text()):
            target = m.group(1)
            local = not target.startswith(("http://", "https://", "mailto:"))
            if local and not (md.parent / target).exists():
                broken.append(f"{md.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_every_anchor_names_a_heading():
    """A link to a section lands on it (the results were split into pages once)."""
    broken = []
    for md in DOCS:
        for m in re.finditer(r"\]\(([^)#\s]*)#([^)\s]+)\)", md.read_text()):
            target = (md.parent / m.group(1)) if m.group(1) else md
            if target.suffix == ".md" and target.exists() and m.group(2) not in _anchors(target):
                broken.append(f"{md.relative_to(ROOT)} -> {m.group(1)}#{m.group(2)}")
    assert broken == []


def test_a_results_page_can_be_read_through():
    long = [p.name for p in [ROOT / "docs/results.md", *(ROOT / "docs/results").glob("*.md")]
            if len(p.read_text().splitlines()) > 400]  # fmt: skip
    assert long == []


def test_every_cited_grid_is_declared_and_reported():
    cited = set()
    for md in DOCS:
        cited |= set(re.findall(r"anrc experiment ([a-z0-9-]+) ", md.read_text()))
    cited -= {"NAME"}
    missing = [g for g in sorted(cited) if not (ROOT / "experiments" / f"{g}.toml").is_file()]
    assert missing == []


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
