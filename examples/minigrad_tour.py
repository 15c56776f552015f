"""Fit a tiny two-layer network with nothing but minigrad, then gradient-check it.

    python examples/minigrad_tour.py --epochs 200
"""
import argparse
import sys

import numpy as np

import minigrad as mg


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--out", default=None, help="unused; accepted for symmetry with the other examples")
    args = p.parse_args(argv)

    mg.seed(0)
    rng = mg.get_rng()
    x = rng.uniform(-2, 2, size=(128, 1))
    y = np.sin(2 * x)
    w1 = mg.Tensor(rng.standard_normal((1, 32)) * 0.5, requires_grad=True)
    b1 = mg.Tensor(np.zeros(32), requires_grad=True)
    w2 = mg.Tensor(rng.standard_normal((32, 1)) * 0.3, requires_grad=True)
    params = [w1, b1, w2]

    def loss_fn(w1, b1, w2):
        return ((mg.tanh(x @ w1 + b1) @ w2 - y) ** 2).mean()

    first = None
    for epoch in range(args.epochs):
        for p_ in params:
            p_.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        for p_ in params:  # plain gradient descent
            p_.data -= 0.1 * p_.grad
        first = loss.item() if first is None else first
        if epoch % max(args.epochs // 10, 1) == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:4d}  loss {loss.item():.5f}")
    ok = mg.gradcheck(loss_fn, params)
    n_params = sum(p_.size for p_ in params)
    print(f"gradcheck of the loss w.r.t. all {n_params} parameters: {'passed' if ok else 'FAILED'}")
    if not loss.item() < first:
        print("the loss did not go down", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
