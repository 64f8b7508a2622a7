"""The DLPO techniques that shape the update request or check its candidate, one file each."""

from dlpo.optim.techniques.contrastive import Contrastive
from dlpo.optim.techniques.dropout import Dropout
from dlpo.optim.techniques.learning_rate import LearningRate
from dlpo.optim.techniques.momentum import Momentum
from dlpo.optim.techniques.regularization import Regularization

__all__ = ["Contrastive", "Dropout", "LearningRate", "Momentum", "Regularization"]
