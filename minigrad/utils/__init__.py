"""Tools around training that are not part of the model: :mod:`minigrad.utils.data`
holds datasets and the DataLoader that batches them, as ``torch.utils.data`` does."""

from minigrad.utils import data

__all__ = ["data"]
