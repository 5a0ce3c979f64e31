import pytest
from helpers import tiny

from anrc.inference.api import RelationClassifier
from anrc.rundir import load_run, save_run


@pytest.fixture(scope="session")
def classifier(tmp_path_factory):
    """A tiny saved-and-loaded CNN (no attention: the page shows saliency)."""
    model, feat, labels, exs, cfg = tiny("cnn")
    out = tmp_path_factory.mktemp("serve-run")
    save_run(out, cfg, model, feat, labels, word_dim=cfg.model.word_dim)
    run = load_run(out)
    return RelationClassifier(run.config, run.model, run.featurizer, run.labels)
