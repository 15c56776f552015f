"""Merge layers: combine a list of tensors into one (Keras 2.0's ``keras.layers.merge``).

    a, b = Input(shape=(16,)), Input(shape=(16,))
    added = Add()([a, b])                          # or add([a, b]); shapes (None, 16) -> (None, 16)
    both = concatenate([a, b])                     # (None, 32)
    score = Dot(axes=1, normalize=True)([a, b])    # (None, 1): the cosine of each pair of samples

Called on a list of arrays or Tensors they compute at once (on the tape); called on symbolic tensors from
``Input`` they record a node of a functional graph. None has weights.

Shapes follow Keras 2.0: every input has the same batch size; the elementwise layers (``Add``, ``Subtract``,
``Multiply``, ``Average``, ``Maximum``, ``Minimum``) broadcast the non-batch axes as numpy does, after giving an
input of lower rank new axes of size 1 right after its batch axis; ``Concatenate`` needs equal sizes except on its
axis; ``Dot`` contracts one axis of each of two inputs, sample by sample. Masks: the elementwise layers output
the logical AND of their inputs' masks (an unmasked input does not restrict it), ``Concatenate`` joins the masks
along its axis (an unmasked input counts as all-true), ``Dot`` outputs no mask.
"""
import numpy as np

import minigrad as mg

from .base import Layer, shape_str

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _shapes_str(shapes):
    return "[" + ", ".join(shape_str(s) for s in shapes) + "]"


def _compatible(a, b):
    return a is None or b is None or a == b


def _l2_normalize(x, axis):
    """x / sqrt(max(sum(x**2, axis), 1e-12)), as Keras' TensorFlow backend: an all-zero vector stays 0."""
    return x / mg.sqrt(mg.maximum((x * x).sum(axis=axis, keepdims=True), 1e-12))


class _Merge(Layer):
    """Base of the merge layers: takes a list of at least ``_min_inputs`` (at most ``_max_inputs``) tensors.

    The inputs' shapes are checked on every call, symbolic or eager, by ``compute_output_shape`` (which receives
    the whole list), not at build: a merge layer has no weights, and the first input's shape alone, which
    ``Layer`` builds from, says nothing about the others. Subclasses write ``_merge_function(inputs)``, which gets
    Tensors of one rank.
    """
    supports_masking = True
    _min_inputs, _max_inputs = 2, None

    # ------------------------------------------------------------ shapes
    def _shape_list(self, input_shape):
        """The list of input shapes, its length and the batch sizes checked (ValueError naming the layer)."""
        kind = type(self).__name__
        if not isinstance(input_shape, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in input_shape):
            single = isinstance(input_shape, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer))
                                                                    for d in input_shape)
            got = f"a single input of shape {shape_str(tuple(input_shape))}" if single else repr(input_shape)
            raise ValueError(f"a merge layer ({kind} {self.name!r}) should be called on a list of inputs, got {got}")
        input_shape = [tuple(s) for s in input_shape]
        self._check_count(len(input_shape))
        for s in input_shape:
            if len(s) < 1:
                raise ValueError(f"layer {self.name!r} ({kind}): every input needs a batch axis, got shapes "
                                 f"{_shapes_str(input_shape)}")
        batches = {s[0] for s in input_shape} - {None}
        if len(batches) > 1:
            raise ValueError(f"layer {self.name!r} ({kind}) cannot merge tensors with different batch sizes: "
                             f"{_shapes_str(input_shape)}")
        return input_shape, (batches.pop() if batches else None)

    def _check_count(self, n):
        kind = type(self).__name__
        lo, hi = self._min_inputs, self._max_inputs
        if n < lo or (hi is not None and n > hi):
            want = f"exactly {lo}" if lo == hi else f"at least {lo}"
            raise ValueError(f"layer {self.name!r} ({kind}) should be called on a list of {want} inputs, got {n}")

    def compute_output_shape(self, input_shape):
        shapes, batch = self._shape_list(input_shape)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = self._broadcast(out, s[1:], shapes)
        self._input_shapes = list(shapes)
        return (batch,) + out

    def _broadcast(self, a, b, shapes):
        """numpy's rule on the non-batch axes (trailing axes aligned; None is any size)."""
        if len(a) < len(b):
            a, b = b, a
        out = list(a[:len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i is None or j is None:  # known at run time only (Keras 2.0 leaves it unknown)
                out.append(None)
            elif i == 1 or j == 1 or i == j:
                out.append(j if i == 1 else i)
            else:
                raise ValueError(f"layer {self.name!r} ({type(self).__name__}): inputs of shapes "
                                 f"{_shapes_str(shapes)} cannot be broadcast together (non-batch axes "
                                 f"{a} and {b})")
        return tuple(out)

    @property
    def input_shape(self):
        """The input shapes of the latest call, a list of tuples (batch axis included)."""
        shapes = getattr(self, "_input_shapes", None)
        if shapes is None:
            raise AttributeError(f"layer {self.name!r} has no known input shape yet (it has not been called)")
        return list(shapes)

    # ------------------------------------------------------------ calling
    def _prepare_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            shape = getattr(inputs, "shape", None)
            got = f"a single input of shape {shape_str(tuple(shape))}" if shape is not None else type(inputs).__name__
            raise ValueError(f"a merge layer ({type(self).__name__} {self.name!r}) should be called on a list of "
                             f"inputs, got {got}")
        self._check_count(len(inputs))
        return super()._prepare_inputs(list(inputs))

    def _check_call(self, inputs, mask):
        """Check the shapes of an eager call (and its masks, when given); returns the output shape."""
        if mask is not None:
            self._mask_list(inputs, mask)
        return self.compute_output_shape([tuple(t.shape) for t in inputs])

    def call(self, inputs, mask=None, training=False):
        self._check_call(inputs, mask)
        ndim = max(t.ndim for t in inputs)
        # Keras 2.0: an input of lower rank gets new axes of size 1 after its batch axis
        aligned = [t if t.ndim == ndim else t.reshape(t.shape[:1] + (1,) * (ndim - t.ndim) + t.shape[1:])
                   for t in inputs]
        return self._merge_function(aligned)

    def _merge_function(self, inputs):
        raise NotImplementedError

    # ------------------------------------------------------------ masks
    def _mask_list(self, inputs, mask):
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): the mask of a merge layer is a list "
                             f"(one entry per input, None for an unmasked input), got {type(mask).__name__}")
        if len(mask) != len(inputs):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): {len(mask)} masks for "
                             f"{len(inputs)} inputs")
        return [None if m is None else np.asarray(m.data if isinstance(m, mg.Tensor) else m, dtype=bool)
                for m in mask]

    def compute_mask(self, inputs, mask=None):
        """The logical AND of the inputs' masks (None when no input has one)."""
        if mask is None:
            return None
        masks = [m for m in self._mask_list(inputs, mask) if m is not None]
        if not masks:
            return None
        try:
            return np.logical_and.reduce(np.broadcast_arrays(*masks)) if len(masks) > 1 else masks[0]
        except ValueError:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): the input masks have incompatible "
                             f"shapes {[m.shape for m in masks]}") from None


class Add(_Merge):
    """The sum of a list of tensors (at least 2): ``inputs[0] + inputs[1] + ...``."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """The difference of exactly 2 tensors: ``inputs[0] - inputs[1]``."""
    _min_inputs = _max_inputs = 2

    def _merge_function(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """The elementwise product of a list of tensors (at least 2)."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """The elementwise mean of a list of tensors (at least 2): their sum divided by their number."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(_Merge):
    """The elementwise maximum of a list of tensors (at least 2); at ties the gradient goes to the earliest."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = mg.maximum(out, x)
        return out


class Minimum(_Merge):
    """The elementwise minimum of a list of tensors (at least 2; Keras 2.1); at ties the gradient goes to the
    earliest."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = mg.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Join a list of tensors (at least 2) along ``axis`` (default -1, the features); every other size must match.

    The batch axis (0) cannot be the axis. Masks: each input's mask (all-true for an unmasked input) is
    broadcast to the input's shape, the masks are joined along ``axis``, and a position of the output is kept
    when every entry along the last axis is: for sequences joined on their features, the AND of the timestep
    masks; joined on their timesteps, the masks one after the other.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concatenate: axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def _axis_for(self, ndim, shapes):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 <= axis < ndim:
            raise ValueError(f"layer {self.name!r} (Concatenate): axis {self.axis} is out of range for inputs of "
                             f"ndim={ndim} {_shapes_str(shapes)}")
        if axis == 0:
            raise ValueError(f"layer {self.name!r} (Concatenate): axis {self.axis} is the batch axis; concatenate "
                             "along a non-batch axis")
        return axis

    def compute_output_shape(self, input_shape):
        shapes, batch = self._shape_list(input_shape)
        ndims = {len(s) for s in shapes}
        if len(ndims) > 1:
            raise ValueError(f"layer {self.name!r} (Concatenate) requires inputs of one rank, got shapes "
                             f"{_shapes_str(shapes)}")
        axis = self._axis_for(ndims.pop(), shapes)
        out = list(shapes[0])
        out[0] = batch
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i not in (0, axis) and not _compatible(a, b):
                    raise ValueError(f"layer {self.name!r} (Concatenate) requires inputs with matching shapes "
                                     f"except for the concatenation axis {self.axis}, got shapes "
                                     f"{_shapes_str(shapes)}")
                if i not in (0, axis) and a is None:
                    out[i] = b
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(d is None for d in sizes) else int(sum(sizes))
        self._input_shapes = list(shapes)
        return tuple(out)

    def call(self, inputs, mask=None, training=False):
        out_shape = self._check_call(inputs, mask)
        return mg.concatenate(inputs, axis=self._axis_for(len(out_shape), self._input_shapes))

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        masks = self._mask_list(inputs, mask)
        if all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            shape = tuple(x.shape)
            if m is None:
                full.append(np.ones(shape, dtype=bool))
                continue
            m = m.reshape(m.shape + (1,) * (len(shape) - m.ndim))  # a (batch, timesteps) mask of 3-D features
            try:
                full.append(np.broadcast_to(m, shape))
            except ValueError:
                raise ValueError(f"layer {self.name!r} (Concatenate): a mask of shape {m.shape} does not fit its "
                                 f"input of shape {shape}") from None
        joined = np.concatenate(full, axis=self._axis_for(len(full[0].shape), [m.shape for m in full]))
        return np.all(joined, axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """The dot product of the samples of two tensors along one axis of each: ``out[i] = tensordot(x1[i], x2[i])``.

    Arguments:
        axes: an int (the same axis of both inputs) or a pair ``(axis_1, axis_2)``; negative values count from
            the end; the batch axis cannot be contracted. Both axes must have the same size.
        normalize: L2-normalize both inputs along their axis first (then two vectors give their cosine).

    Output shape: ``(batch,) + x1's other axes + x2's other axes``; two vectors per sample give ``(batch, 1)``.
    No output mask.
    """
    _min_inputs = _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = list(axes) if isinstance(axes, (list, tuple)) else None
        if pair is None and (isinstance(axes, bool) or not isinstance(axes, (int, np.integer))):
            raise TypeError(f"Dot: axes must be an integer or a pair of integers, got {axes!r}")
        if pair is not None and (len(pair) != 2 or
                                 any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in pair)):
            raise ValueError(f"Dot: axes must be an integer or a pair of integers, got {axes!r}")
        if not isinstance(normalize, (bool, np.bool_)):
            raise TypeError(f"Dot: normalize must be True or False, got {normalize!r}")
        self.axes = [int(a) for a in pair] if pair is not None else int(axes)
        self.normalize = bool(normalize)

    def _axes_for(self, shapes):
        pair = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        out = []
        for a, s in zip(pair, shapes):
            axis = a + len(s) if a < 0 else a
            if not 0 <= axis < len(s):
                raise ValueError(f"layer {self.name!r} (Dot): axis {a} is out of range for an input of shape "
                                 f"{shape_str(s)} (inputs {_shapes_str(shapes)})")
            if axis == 0:
                raise ValueError(f"layer {self.name!r} (Dot): axes {self.axes} would contract the batch axis; the "
                                 "dot product is taken sample by sample over non-batch axes")
            out.append(axis)
        return out

    def compute_output_shape(self, input_shape):
        shapes, batch = self._shape_list(input_shape)
        a1, a2 = self._axes_for(shapes)
        s1, s2 = shapes
        if not _compatible(s1[a1], s2[a2]):
            raise ValueError(f"layer {self.name!r} (Dot): dimension incompatibility {s1[a1]} != {s2[a2]} along axes "
                             f"{a1} and {a2} of the inputs {_shapes_str(shapes)}")
        rest = [d for i, d in enumerate(s1) if i not in (0, a1)] + [d for i, d in enumerate(s2) if i not in (0, a2)]
        self._input_shapes = list(shapes)
        return (batch,) + (tuple(rest) if rest else (1,))

    def call(self, inputs, mask=None, training=False):
        self._check_call(inputs, mask)
        x1, x2 = inputs
        a1, a2 = self._axes_for([x1.shape, x2.shape])
        if self.normalize:
            x1, x2 = _l2_normalize(x1, a1), _l2_normalize(x2, a2)
        if x1.ndim == 2 and x2.ndim == 2:  # a pair of vectors per sample
            return (x1 * x2).sum(axis=1, keepdims=True)
        # one batched matrix product: x1's contracted axis moved last, x2's first, the other axes flattened
        b = x1.shape[0]
        rest1 = [i for i in range(1, x1.ndim) if i != a1]
        rest2 = [i for i in range(1, x2.ndim) if i != a2]
        perm1, perm2 = [0, *rest1, a1], [0, a2, *rest2]
        left = x1 if perm1 == list(range(x1.ndim)) else x1.transpose(perm1)
        right = x2 if perm2 == list(range(x2.ndim)) else x2.transpose(perm2)
        k = x1.shape[a1]
        out_rest = tuple(x1.shape[i] for i in rest1) + tuple(x2.shape[i] for i in rest2)
        out = left.reshape(b, -1, k) @ right.reshape(b, k, -1)
        return out.reshape((b,) + out_rest)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# ============================================================ functional forms (Keras 2.0's merge functions)

def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``: a list of tensors joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """``Dot(axes, normalize, **kwargs)(inputs)``: the sample-wise dot product of two tensors."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
