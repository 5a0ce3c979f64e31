"""Models: featurisers, embedders, encoders (one file each), pooling, heads, the classifier."""
