from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "semeval2010_task8"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"SemEval-2010 Task 8 data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Caches (the distillation teachers' predictions) go to a folder of the test session."""
    import os

    os.environ["ANRC_CACHE"] = str(tmp_path_factory.mktemp("anrc-cache"))
    # "auto" forms depend on the CPU (bf16 where it is native): the suite's answers must
    # not, so auto means fp32 here unless a test says otherwise (tests/inference/test_forms.py)
    os.environ["ANRC_FORM"] = "fp32"
