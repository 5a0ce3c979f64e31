import pytest
from helpers import tiny, word_dim

from anrc.inference.api import RelationClassifier
from anrc.models.trained import TrainedModel


def _saved_and_loaded(encoder: str, folder, **tiny_kw) -> RelationClassifier:
    model, feat, labels, exs, cfg = tiny(encoder, **tiny_kw)
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(folder)
    run = TrainedModel.load(folder)
    return RelationClassifier(run)


@pytest.fixture(scope="session")
def classifier(tmp_path_factory):
    """A tiny saved-and-loaded CNN (no attention: the page shows saliency)."""
    return _saved_and_loaded("cnn", tmp_path_factory.mktemp("serve-run"))


@pytest.fixture(scope="session")
def attention_classifier(tmp_path_factory):
    """A tiny saved-and-loaded ANRC model (entity attention: the page can switch)."""
    return _saved_and_loaded("anrc", tmp_path_factory.mktemp("serve-run-anrc"))


@pytest.fixture(scope="session")
def transformer_classifier(tmp_path_factory):
    """A tiny saved-and-loaded transformer (word pieces, markers and [CLS] in its tokens)."""
    return _saved_and_loaded(
        "transformer", tmp_path_factory.mktemp("serve-run-transformer"), markers="punct"
    )
