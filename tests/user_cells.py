"""User-written cells that several test modules run through RNN (defined once here)."""
import minigrad as mg
from layers import Layer


class ProjectedCell(Layer):
    """Two states of different sizes and an output of a third size: state a (units), state b (2 units) and the
    output a V (out)."""

    def __init__(self, units, out, **kwargs):
        super().__init__(**kwargs)
        self.units, self.out = units, out
        self.state_size = [units, 2 * units]
        self.output_size = out

    def build(self, input_shape):
        d, u = input_shape[-1], self.units
        self.W = self.add_weight("W", (d, u), "glorot_uniform")
        self.R = self.add_weight("R", (2 * u, u), "orthogonal")
        self.S = self.add_weight("S", (u, 2 * u), "glorot_uniform")
        self.V = self.add_weight("V", (u, self.out), "glorot_uniform")

    def call(self, inputs, states, training=False):
        a, b = states
        a = mg.tanh(inputs @ self.W + b @ self.R)
        b = b * 0.5 + mg.tanh(a @ self.S)
        return a @ self.V, [a, b]
