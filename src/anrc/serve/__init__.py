"""``anrc serve``: a JSON HTTP API and a web page for a trained model."""
