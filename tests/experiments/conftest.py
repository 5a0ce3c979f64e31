import pytest
from grids import TINY


@pytest.fixture
def make_grid(tmp_path, data_dir):
    from anrc.data import read, write_semeval

    test = tmp_path / "test.txt"
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:100], test)

    def make(name="g", epochs=2, extra=""):
        p = tmp_path / f"{name}.toml"
        train = data_dir / "TRAIN_FILE.TXT"
        p.write_text(TINY.format(train=train, test=test, epochs=epochs, extra=extra))
        return p

    return make
