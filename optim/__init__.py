"""optim: optimizers, losses, metrics and training callbacks (Keras 2.0 semantics) for minigrad models.

    from optim import Adam
    opt = Adam(lr=0.001, clipnorm=1.0)
    loss = optim.losses.get('categorical_crossentropy')(y_true, y_pred)
    loss.backward()
    opt.step(params)

Depends on numpy and minigrad only.
"""
from . import callbacks, losses, metrics, optimizers
from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, Optimizer, RMSprop

__all__ = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam", "Optimizer",
           "optimizers", "losses", "metrics", "callbacks"]
