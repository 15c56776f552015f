"""Fused forward passes and hand-written backprop through time for the Keras 2.0 recurrent cells.

The arithmetic is numpy only (the activations' names and constants come from ``layers/activations.py``). Each cell
has a pair of functions

    <cell>_forward(x, W, R, b, *initial_states, mask=, x_masks=, h_masks=, activation=, ..., go_backwards=)
        -> (outputs, *final_states, cache)
    <cell>_backward(cache, d_outputs, *d_final_states)
        -> (dx, dW, dR, db, *d_initial_states)

that a minigrad `Function` wraps as one tape entry per sequence. The step equations (Keras 2.0, stated in
docs/recurrent-semantics.md) are written out above each cell. Conventions shared by all cells:

* Shapes: x (B,T,D) batch-major; W (D,kU); R (U,kU); b (kU,) or None (use_bias=False); states (B,U);
  k = 1 (SimpleRNN), 3 (GRU, gates z,r,h), 4 (LSTM, gates i,f,c,o).
* `outputs` (B,T,U) holds h_t in processing order: with go_backwards=True, outputs[:, k] is the output after
  consuming input index T-1-k. It is a (non-contiguous) view into the cache; do not write into it.
  `dx` is returned in the ORIGINAL input order.
* `mask` (B,T) bool: a masked step is computed but discarded: the states (and so the output, which is h)
  carry over from the previous step. Its gradient flows through the carry.
* Dropout masks, sampled by the caller (entries 0 or 1/(1-p)), constant over time: `x_masks` multiplies x_t
  before W, `h_masks` multiplies h_{t-1} before R. Each is None, an array (B,n) shared by all gates
  (implementation 2), or an array (k,B,n) with one mask per gate in Keras gate order (implementations 0, 1).
* `implementation` (0, 1 or 2) is validated but does not change the arithmetic: the three modes compute the
  same function, and which masks apply where is fully given by the mask arrays. The input product is always
  done for all timesteps before the loop (one product per distinct input mask), the fastest grouping.
* dtype: the result dtype of the float inputs (float32 stays float32, float64 stays float64).
* Backward arguments d_outputs / d_hT / d_cT may be None (no gradient). db is None when b is None.
* The cache is opaque; backward does not modify it, so it may be called more than once.

How it is made fast (measured in benchmarks/RESULTS.md): one input product for all timesteps before the
loop, with the bias riding along as a column of ones in the time-major copy of x (and db coming out of dW's
product); time-major buffers (see `_Prepared`) so that each step works on contiguous blocks, allocated once per
call and recycled between calls (`_BufferPool`); `out=` arithmetic; gates reordered internally so that gates
sharing an activation (forward) or a factor (backward) are adjacent and one numpy call covers them; the
scale/shift of (hard_)sigmoid folded into the weights of the gates that use it; in backward, every factor that
does not depend on the recurrence computed outside the recurrence, and dW, dR, db, dx computed as large products
after the loop. The per-step Python loop is the only loop; at small sizes its cost is the number of numpy calls
per step (LSTM: 9 forward, 6 backward, each ~0.5-1.5 us of overhead), which is what the layouts minimise.
"""
import weakref

import numpy as np

from minigrad.buffers import BufferPool

from . import activations

__all__ = ['KNOWN_ACTIVATIONS', 'clear_buffer_pool', 'simple_rnn_forward', 'simple_rnn_backward',
           'gru_forward', 'gru_backward', 'lstm_forward', 'lstm_backward']


# ----------------------------------------------------------------------------------------------------------
# Activations: y = f(a) = g(scale * a + shift). The kernels fold scale/shift into the weights of the gates
# that use f, so that a step only evaluates g. Derivatives are written in terms of the output y, so backward
# needs only the stored outputs. `derivative` is d f / d a (the scale included).
# The functions, their names and constants are those of layers/activations.py (one definition); this table holds
# only the in-place numpy forms of the ones the kernels run, keyed by the activation function itself.
# ----------------------------------------------------------------------------------------------------------

class _Activation:
    def __init__(self, fn, g, derivative, scale=1.0, shift=0.0):
        self.fn, self.name = fn, fn.__name__
        self.g, self.derivative, self.scale, self.shift = g, derivative, scale, shift

    def apply(self, a, out):
        """out = f(a), for an argument whose scale/shift were not folded in (LSTM's act(c))."""
        if self.scale != 1.0 or self.shift != 0.0:
            a = np.multiply(a, self.scale, out=out)
            a += self.shift
        self.g(a, out)
        return out


def _tanh(u, out):
    np.tanh(u, out=out)


def _d_tanh(y, out):                          # 1 - y^2
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)


# 0-d array constants: cheaper ufunc operands than Python floats in the per-step loop.
_CONSTANTS = {(v, np.dtype(dt)): np.array(v, dtype=dt) for v in (0.0, 0.5, 1.0) for dt in (np.float32, np.float64)}
_clip = getattr(getattr(np, '_core', None), 'umath', None)
_clip = getattr(_clip, 'clip', np.clip)       # the clip ufunc skips np.clip's Python-level checks


def _sigmoid_of_half(u, out):                 # sigmoid(a) = 0.5 tanh(a/2) + 0.5, with u = a/2
    half = _CONSTANTS.get((0.5, out.dtype), 0.5)
    np.tanh(u, out=out)
    np.multiply(out, half, out=out)
    np.add(out, half, out=out)


def _d_sigmoid(y, out):                       # y (1 - y)
    np.subtract(1, y, out=out)
    out *= y


def _clip01(u, out):                          # hard_sigmoid(a) = clip(u, 0, 1), with u = slope a + shift
    _clip(u, _CONSTANTS.get((0.0, out.dtype), 0), _CONSTANTS.get((1.0, out.dtype), 1), out=out)


def _d_hard_sigmoid(y, out):                  # the slope where 0 < y < 1, else 0
    np.subtract(1, y, out=out)                # y (1 - y) > 0 exactly where 0 < y < 1 (0 <= y <= 1)
    out *= y
    np.greater(out, 0, out=out)
    out *= activations.HARD_SIGMOID_SLOPE


def _relu(u, out):
    np.maximum(u, _CONSTANTS.get((0.0, out.dtype), 0), out=out)


def _d_relu(y, out):                          # 1 where y > 0 (y >= 0, so sign(y) is 0 or 1)
    np.sign(y, out=out)


def _linear(u, out):
    if out is not u:
        np.copyto(out, u)


def _d_linear(y, out):
    out.fill(1)


def _softsign(u, out):                        # a / (1 + |a|)
    d = np.abs(u)
    d += 1
    np.divide(u, d, out=out)


def _d_softsign(y, out):                      # 1 / (1 + |a|)^2 = (1 - |y|)^2
    np.abs(y, out=out)
    np.subtract(1, out, out=out)
    out *= out


def _softplus(u, out):                        # log(1 + e^a), overflow-safe
    np.logaddexp(0, u, out=out)


def _d_softplus(y, out):                      # sigmoid(a) = 1 - e^-y
    np.negative(y, out=out)
    np.expm1(out, out=out)
    np.negative(out, out=out)


def _elu(u, out):                             # a if a > 0 else e^a - 1  (alpha = 1)
    e = np.minimum(u, 0)
    np.expm1(e, out=e)
    np.maximum(u, e, out=out)                 # e^a - 1 >= a, and = 0 for a > 0


def _d_elu(y, out):                           # 1 if y > 0 else y + 1
    np.add(y, 1, out=out)
    np.minimum(out, 1, out=out)


def _selu(u, out):                            # scale * (a if a > 0 else alpha (e^a - 1))
    e = np.minimum(u, 0)
    np.expm1(e, out=e)
    e *= activations.SELU_ALPHA
    np.copyto(e, u, where=u > 0)
    np.multiply(e, activations.SELU_SCALE, out=out)


def _d_selu(y, out):                          # scale if y > 0 else y + scale*alpha
    np.add(y, activations.SELU_SCALE * activations.SELU_ALPHA, out=out)
    np.copyto(out, activations.SELU_SCALE, where=y > 0)


_FORMS = [
    _Activation(activations.tanh, _tanh, _d_tanh),
    _Activation(activations.sigmoid, _sigmoid_of_half, _d_sigmoid, scale=0.5),
    _Activation(activations.hard_sigmoid, _clip01, _d_hard_sigmoid, scale=activations.HARD_SIGMOID_SLOPE,
                shift=activations.HARD_SIGMOID_SHIFT),
    _Activation(activations.relu, _relu, _d_relu),
    _Activation(activations.linear, _linear, _d_linear),
    _Activation(activations.softsign, _softsign, _d_softsign),
    _Activation(activations.softplus, _softplus, _d_softplus),
    _Activation(activations.elu, _elu, _d_elu),
    _Activation(activations.selu, _selu, _d_selu),
]
_ACTIVATIONS = {form.name: form for form in _FORMS}

#: Activation names the kernels implement (None also means 'linear'), as ``layers.activations`` names them.
#: Others (a user's callable, softmax): the tape-recorded path.
KNOWN_ACTIVATIONS = frozenset(_ACTIVATIONS)


def _get_activation(name, what):
    if name is None:
        name = 'linear'
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ValueError('%s %r is not known to the fused RNN kernels; known: %s'
                         % (what, name, ', '.join(sorted(KNOWN_ACTIVATIONS))))
    return _ACTIVATIONS[name]


# ----------------------------------------------------------------------------------------------------------
# Shared preparation and the large products before / after the time loop (layout: see `_Prepared`).
# ----------------------------------------------------------------------------------------------------------

# the large internal work arrays: backward's return at the end of backward, a forward cache's when the cache is
# collected
_POOL = BufferPool(max_bytes=256 << 20)


def clear_buffer_pool():
    """Free the work arrays kept for reuse between calls."""
    _POOL.clear()


class KernelCache:
    """What a forward pass keeps for its backward pass (opaque to callers)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _compute_dtype(*arrays):
    dt = np.result_type(*[a.dtype for a in arrays if a is not None])
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)


def _check_common(x, W, R, b, k, implementation):
    if x.ndim != 3:
        raise ValueError('x must be (batch, timesteps, input_dim), got shape %s' % (x.shape,))
    B, T, D = x.shape
    if T < 1:
        raise ValueError('the fused RNN kernels need at least one timestep')
    U = R.shape[0]
    if W.shape != (D, k * U) or R.shape != (U, k * U) or (b is not None and b.shape != (k * U,)):
        raise ValueError('weight shapes do not fit x %s: W %s, R %s, b %s (expected (%d,%d), (%d,%d), (%d,))'
                         % (x.shape, W.shape, R.shape, None if b is None else b.shape, D, k * U, U, k * U, k * U))
    if implementation not in (0, 1, 2):
        raise ValueError('implementation must be 0, 1 or 2, got %r' % (implementation,))
    return B, T, D, U


def _state(s, B, U, dtype, name):
    s = np.asarray(s)
    if s.shape != (B, U):
        raise ValueError('%s must have shape %s, got %s' % (name, (B, U), s.shape))
    return s.astype(dtype, copy=False)


def _split_gates(A, slots, U, dtype):
    """(..., kU) in Keras gate order -> (k, ..., U) in slot order: [j] is gate slots[j] (a contiguous copy)."""
    return np.stack([A[..., g * U:(g + 1) * U] for g in slots]).astype(dtype, copy=False)


def _join_gates(A, slots):
    """(k, ..., U) in slot order -> (..., kU) in Keras gate order (inverse of `_split_gates`)."""
    order = np.argsort(slots)
    return np.concatenate([A[j] for j in order], axis=-1)


def _time_major(x, go_backwards, dtype, ones=False):
    """(B,T,D) -> contiguous (T,B,D) in processing order, and whether it is a pool buffer. ones=True: (T,B,D+1)
    with a last column of ones (the bias then rides along in the input product, and db in dW's).

    x is often the (time-major) outputs view of a layer below: then no copy is needed (without ones)."""
    xt = x.transpose(1, 0, 2)
    if go_backwards:
        xt = xt[::-1]
    if not ones and xt.dtype == dtype and xt.flags.c_contiguous:
        return xt, False
    T, B, D = xt.shape
    Xt = _POOL.empty((T, B, D + 1) if ones else (T, B, D), dtype)
    if ones:
        np.copyto(Xt[..., :D], xt)
        Xt[..., D] = 1
    else:
        np.copyto(Xt, xt)
    return Xt, True


def _carry_mask(mask, B, T, go_backwards):
    """mask (B,T) -> `carry` (T,B,1) bool, True where the step is masked out; None when nothing is masked."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.shape != (B, T):
        raise ValueError('mask must have shape %s, got %s' % ((B, T), m.shape))
    m = m.astype(bool, copy=False)
    if m.all():
        return None
    carry = ~m.T
    if go_backwards:
        carry = carry[::-1]
    return np.ascontiguousarray(carry)[:, :, None]


def _dropout_masks(m, k, B, n, slots, dtype, name):
    """None | (B,n) shared | (k,B,n) per Keras gate -> None | (1,B,n) | (k,B,n) in slot order."""
    if m is None:
        return None
    m = np.asarray(m)
    if m.shape == (B, n):
        return m.astype(dtype, copy=False)[None]
    if m.shape == (k, B, n):
        return np.ascontiguousarray(m[list(slots)], dtype=dtype)
    raise ValueError('%s must have shape %s (shared) or %s (per gate), got %s'
                     % (name, (B, n), (k, B, n), m.shape))


# ----------------------------------------------------------------------------------------------------------
# Internal layout. Time-major, and gate-outer: gate pre-activations and values are kept as G (k,T,B,U) (SimpleRNN,
# GRU), so a step's gate g is the contiguous block G[g, t] (small non-contiguous operands are 2-3x slower per
# numpy call) and every per-gate product is a batched matmul over the leading axis. The LSTM goes one step further:
# STEP-major G (T+1, 6, B, U), one contiguous block per step holding its gates and states, so that a call on
# several gates of a step is a plain 1-d loop (about 1 us less per call at B=16, U=64 than on blocks spread
# across the gate-major array). Gates are in "slot" order (each cell lists its `slots`): gates with the same
# activation, or scaled by the same factor in backward, are adjacent, so one numpy call covers them. Returned
# gradients are in Keras order again.
# ----------------------------------------------------------------------------------------------------------

class _Prepared:
    """Arguments checked and brought to the internal layout: time-major, gate-outer, slot order.

    Xt (T,B,D), or (T,B,D+1) with a last column of ones (ones=True: the bias is then the last row of Wf_g, bf_g
    None, and x_m has a column of ones too); carry (T,B,1) or None; x_m (1|k, B, D) and h_m (1|k, B, U) or None;
    W_g (k,D,U), R_g (k,U,U): the weights per slot (for backward); Wf_g, Rf_g, bf_g (k,1,1,U) or None: the same
    with each slot's activation scale/shift folded in, a' = scale*a + shift (for forward)."""

    def __init__(self, x, W, R, b, states, k, slots, acts, mask, x_masks, h_masks, implementation, go_backwards,
                 ones=False):
        B, T, D, U = _check_common(x, W, R, b, k, implementation)
        self.B, self.T, self.D, self.U, self.ones = B, T, D, U, ones
        self.dtype = dtype = _compute_dtype(x, W, R, b, *states)
        self.states = [_state(s, B, U, dtype, name) for s, name in zip(states, ('h0', 'c0'))]
        self.Xt, self.Xt_pooled = _time_major(x, go_backwards, dtype, ones)
        self.carry = _carry_mask(mask, B, T, go_backwards)
        self.x_m = _dropout_masks(x_masks, k, B, D, slots, dtype, 'x_masks')
        if ones and self.x_m is not None:              # the column of ones is not dropped out
            self.x_m = np.concatenate([self.x_m, np.ones(self.x_m.shape[:2] + (1,), dtype)], axis=-1)
        self.h_m = _dropout_masks(h_masks, k, B, U, slots, dtype, 'h_masks')
        self.W = W.astype(dtype, copy=False)
        self.W_g = _split_gates(W, slots, U, dtype)
        self.R_g = _split_gates(R, slots, U, dtype)
        scale = np.array([act.scale for act in acts], dtype=dtype).reshape(k, 1, 1)
        shift = np.array([act.shift for act in acts], dtype=dtype).reshape(k, 1, 1, 1)
        folded = np.any(scale != 1)
        self.Wf_g = self.W_g * scale if folded else self.W_g
        self.Rf_g = self.R_g * scale if folded else self.R_g
        if b is not None:
            self.bf_g = _split_gates(b, slots, U, dtype).reshape(k, 1, 1, U) * scale[..., None] + shift
        else:
            self.bf_g = shift if np.any(shift != 0) else None
        if ones:                                       # Xt's column of ones meets the (folded) bias as a last row
            last = np.zeros((k, 1, U), dtype) if self.bf_g is None else self.bf_g.reshape(k, 1, -1)
            self.Wf_g = np.concatenate([self.Wf_g, np.broadcast_to(last, (k, 1, U))], axis=1)
            self.bf_g = None


def _lead(A, ndim):
    """The size of A's leading (gate) axis when it has one beyond ``ndim`` axes, else 1: reshape(-1, ...) cannot
    infer it when the batch is empty."""
    return A.shape[0] if A.ndim > ndim else 1


def _input_product(p):
    """(x_t ⊙ m_x^g) W_g + b_g for all steps and gates at once -> pool buffer G (k,T,B,U); G[j] is contiguous."""
    T, B, U = p.T, p.B, p.U
    k, Da = p.W_g.shape[0], p.Xt.shape[-1]                         # Da = D+1 with Xt's column of ones
    G = _POOL.empty((k, T, B, U), p.dtype)
    Xm = p.Xt if p.x_m is None else p.Xt * p.x_m[:, None]          # (T,B,Da) or (1|k,T,B,Da)
    np.matmul(Xm.reshape(_lead(Xm, 3), T * B, Da), p.Wf_g, out=G.reshape(k, T * B, U))
    if p.bf_g is not None:
        G += p.bf_g
    return G


def _input_grads(cache, DA):
    """From da (k,T,B,U): dW_g = sum_t (x_t⊙m_x^g)^T da_t^g (k,Da,U) and dX_t = sum_g (da_t^g W_g^T) ⊙ m_x^g.
    With Xt's column of ones (Da = D+1), dW_g's last row is db_g."""
    Xt, x_m, W_g = cache.Xt, cache.x_m, cache.W_g
    T, B, Da = Xt.shape
    k, U, D = DA.shape[0], DA.shape[-1], W_g.shape[1]
    DA3 = DA.reshape(k, T * B, U)
    Xm = Xt if x_m is None else Xt * x_m[:, None]
    dW_g = np.matmul(Xm.reshape(_lead(Xm, 3), T * B, Da).transpose(0, 2, 1), DA3)
    dX = np.matmul(DA3[0], W_g[0].T).reshape(T, B, D)             # the per-gate terms summed into one array
    if x_m is not None:
        dX *= x_m[0, :, :D]
    term = _POOL.empty((T, B, D), Xt.dtype) if k > 1 else None
    for g in range(1, k):
        np.matmul(DA3[g], W_g[g].T, out=term.reshape(T * B, D))
        if x_m is not None:
            term *= x_m[g if x_m.shape[0] > 1 else 0, :, :D]
        dX += term
    _POOL.recycle(term)
    return dW_g, dX


def _recurrent_weight_grad(Hprev, DA, h_m):
    """dR_g = sum_t (h_{t-1} ⊙ m_h^g)^T da_t^g -> (n,U,U), for Hprev (T,B,U) and DA (n,T,B,U)."""
    T, B, U = Hprev.shape
    Hm = Hprev if h_m is None else Hprev * h_m[:, None]
    return np.matmul(Hm.reshape(_lead(Hm, 3), T * B, U).transpose(0, 2, 1), DA.reshape(_lead(DA, 3), T * B, U))


_COPY_D_OUTPUTS_BYTES = 1 << 20                        # up to this size d_outputs is copied time-major


def _d_outputs_in_place(d_outputs, d_hT, T, B, U, dtype):
    """(d_out, dh): d_outputs time-major (T,B,U) or None, and a fresh dh_{T-1} = d output_{T-1} + d h_T. The loops
    form dh_{t-1} = d_out[t-1] + the gradient through step t. Small d_outputs are copied (contiguous operands are
    cheaper per call); large ones are read in place, a strided view (no copy the size of the outputs)."""
    d_out = None
    if d_outputs is not None:
        d_out = np.asarray(d_outputs, dtype=dtype).transpose(1, 0, 2)
        if d_out.nbytes <= _COPY_D_OUTPUTS_BYTES:
            d_out = np.ascontiguousarray(d_out)
    dh = np.zeros((B, U), dtype=dtype) if d_out is None else np.array(d_out[T - 1])
    if d_hT is not None:
        dh += d_hT
    return d_out, dh


def _next_dh(d_out, t, dh, dh_rec):
    """dh_{t-1} = d output_{t-1} + dh_rec (the gradient reaching h_{t-1} through step t), written over the spent
    dh_t buffer; returns (dh_{t-1}, the buffer free for the next dh_rec)."""
    if d_out is None:
        return dh_rec, dh
    np.add(d_out[t - 1], dh_rec, out=dh)
    return dh, dh_rec


def _finish(cache, DA, dR_g):
    """dW, db from DA; gates back to Keras order; dx back to (B,T,D) in the original input order."""
    dW_g, dX = _input_grads(cache, DA)
    dx = dX.transpose(1, 0, 2)
    if cache.go_backwards:
        dx = dx[:, ::-1]
    k, T, B, U = DA.shape
    D = cache.W_g.shape[1]
    dW = _join_gates(dW_g[:, :D], cache.slots)
    dR = _join_gates(dR_g, cache.slots)
    if not cache.has_bias:
        db = None
    elif dW_g.shape[1] > D:                            # Xt's column of ones: db_g is dW_g's last row
        db = _join_gates(dW_g[:, D], cache.slots)
    else:
        db = _join_gates(DA.reshape(k, T * B, U).sum(axis=1), cache.slots)
    return dx, dW, dR, db


def _make_cache(p, cell, slots, acts, has_bias, go_backwards, pooled=(), **arrays):
    """The cache for backward; its pool buffers return to the pool when it is collected."""
    cache = KernelCache(cell=cell, slots=slots, acts=acts, has_bias=has_bias, go_backwards=go_backwards,
                        dtype=p.dtype, Xt=p.Xt, x_m=p.x_m, h_m=p.h_m, carry=p.carry, W_g=p.W_g, R_g=p.R_g,
                        **arrays)
    weakref.finalize(cache, _POOL.recycle, *pooled, p.Xt if p.Xt_pooled else None)
    return cache


def _input_product_steps(p, extra):
    """(x_t ⊙ m_x^g) W_g + b_g for all steps and gates -> pool buffer G (T+1, k+extra, B, U), STEP-major: G[t, :k]
    is step t's gates in slot order, one contiguous block (a numpy call on several gates of one step is then a
    plain 1-d loop: about 1 us less per call at small shapes than on gate-major blocks). One batched product
    (T*k blas calls, as fast as one large product here); slots k.. and G[T] are left to the caller."""
    T, B, U = p.T, p.B, p.U
    k = p.W_g.shape[0]
    G = _POOL.empty((T + 1, k + extra, B, U), p.dtype)
    Xm = p.Xt[:, None] if p.x_m is None else (p.Xt * p.x_m[:, None]).transpose(1, 0, 2, 3)   # (T, 1|k, B, D)
    np.matmul(Xm, p.Wf_g, out=G[:T, :k])
    if p.bf_g is not None:
        G[:T, :k] += p.bf_g.reshape(k, 1, -1)
    return G


def _rows_in_keras_order(P, first, slots):
    """Turn the step-major P (T, n, B, U), whose slots first..first+k-1 hold da in slot order, IN PLACE into rows:
    returns DA (T*B, k*U) in Keras gate order, a view into P's memory (row stride n*U). Each step's block is
    rewritten as (B, n, U), a chunk of steps at a time through a small scratch copy."""
    T, n, B, U = P.shape
    k = len(slots)
    order = [first + slots.index(g) for g in range(k)]       # P slot of Keras gate g
    rows = P.reshape(T, B, n, U)                               # the same memory, each step's block as (B, n, U)
    chunk = max(1, min(T, (1 << 20) // max(1, k * B * U * P.itemsize)))
    tmp = np.empty((chunk, k, B, U), P.dtype)
    for t0 in range(0, T, chunk):
        t1 = min(T, t0 + chunk)
        np.take(P[t0:t1], order, axis=1, out=tmp[:t1 - t0], mode='clip')
        np.copyto(rows[t0:t1, :, :k], tmp[:t1 - t0].transpose(0, 2, 1, 3))
    return P.reshape(T * B, n * U)[:, :k * U]


def _finish_rows(cache, DA, Hprev):
    """dx, dW, dR, db from DA (T*B, kU) in Keras gate order (rows in processing order): three large products with
    the gates side by side (dx needs no per-gate sum; with Xt's column of ones, db is dW's last row). Per-gate
    dropout masks: one product per gate."""
    Xt, x_m, h_m, W = cache.Xt, cache.x_m, cache.h_m, cache.W
    T, B, Da = Xt.shape
    D = W.shape[0]
    kU = DA.shape[1]
    k = len(cache.slots)
    U = kU // k
    X2, H2 = Xt.reshape(T * B, Da), Hprev.reshape(T * B, U)
    if x_m is None or x_m.shape[0] == 1:
        Xm = X2 if x_m is None else (Xt * x_m).reshape(T * B, Da)
        dW = np.matmul(Xm.T, DA)
        dX = np.matmul(DA, W.T)
        if x_m is not None:
            dX.reshape(T, B, D)[...] *= x_m[..., :D]
    else:
        dW = np.empty((Da, kU), dtype=DA.dtype)
        dX = np.zeros((T, B, D), dtype=DA.dtype)
        for g in range(k):
            m, cols = x_m[cache.slots.index(g)], slice(g * U, (g + 1) * U)
            dW[:, cols] = np.matmul((Xt * m).reshape(T * B, Da).T, DA[:, cols])
            dX += np.matmul(DA[:, cols], W[:, cols].T).reshape(T, B, D) * m[..., :D]
        dX = dX.reshape(T * B, D)
    if h_m is None or h_m.shape[0] == 1:
        Hm = H2 if h_m is None else (Hprev * h_m).reshape(T * B, U)
        dR = np.matmul(Hm.T, DA)
    else:
        dR = np.empty((U, kU), dtype=DA.dtype)
        for g in range(k):
            cols = slice(g * U, (g + 1) * U)
            dR[:, cols] = np.matmul((Hprev * h_m[cache.slots.index(g)]).reshape(T * B, U).T, DA[:, cols])
    if Da > D:                                         # Xt's column of ones: db is the last row
        dW, db = dW[:D], (dW[D] if cache.has_bias else None)
    else:
        db = np.matmul(np.ones(T * B, DA.dtype), DA) if cache.has_bias else None   # a gemv: faster than a strided sum
    dx = dX.reshape(T, B, D).transpose(1, 0, 2)
    if cache.go_backwards:
        dx = dx[:, ::-1]
    return dx, dW, dR, db


# ----------------------------------------------------------------------------------------------------------
# SimpleRNN                                         states [h]
#     a_t = (x_t ⊙ m_x) W + b + (h_{t-1} ⊙ m_h) R
#     h_t = act(a_t)                                 output_t = h_t
# Backward, with dh = d loss / d h_t (output gradient plus the gradient through h_{t+1}):
#     da_t = dh ⊙ act'(a_t)
#     dh_{t-1} = (da_t R^T) ⊙ m_h
# ----------------------------------------------------------------------------------------------------------

def simple_rnn_forward(x, W, R, b, h0, *, mask=None, x_masks=None, h_masks=None, activation='tanh',
                       implementation=0, go_backwards=False):
    """SimpleRNN over a sequence.

    x (B,T,D), W (D,U), R (U,U), b (U,) or None, h0 (B,U); mask (B,T) bool or None;
    x_masks (B,D) or (1,B,D) or None; h_masks (B,U) or (1,B,U) or None.
    Returns (outputs (B,T,U), h_T (B,U), cache).
    """
    act = _get_activation(activation, 'activation')
    p = _Prepared(x, W, R, b, [h0], 1, (0,), (act,), mask, x_masks, h_masks, implementation, go_backwards,
                  ones=True)
    T, B, U, carry, h_m = p.T, p.B, p.U, p.carry, p.h_m
    G = _input_product(p)                              # x_t W + b for every t (scale/shift folded in)
    A = G[0]
    R_ = p.Rf_g[0]
    H = np.empty((T + 1, B, U), dtype=p.dtype)         # H[0] = h0, H[t+1] = h after step t
    H[0] = p.states[0]
    hm = np.empty((B, U), dtype=p.dtype)
    for t in range(T):
        h_prev, h = H[t], H[t + 1]
        h_prev_m = h_prev if h_m is None else np.multiply(h_prev, h_m[0], out=hm)
        np.matmul(h_prev_m, R_, out=h)                 # (h_{t-1} ⊙ m_h) R
        np.add(h, A[t], out=h)                         # a_t
        act.g(h, h)                                    # h_t = act(a_t)
        if carry is not None:
            np.copyto(h, h_prev, where=carry[t])       # masked step: h carries over
    _POOL.recycle(G)

    cache = _make_cache(p, 'simple_rnn', (0,), (act,), b is not None, go_backwards, H=H)
    return H[1:].transpose(1, 0, 2), H[T], cache


def simple_rnn_backward(cache, d_outputs, d_hT):
    """BPTT for `simple_rnn_forward`. d_outputs (B,T,U) or None, d_hT (B,U) or None.

    Returns (dx (B,T,D), dW (D,U), dR (U,U), db (U,) or None, dh0 (B,U)).
    """
    H, h_m, carry, dtype = cache.H, cache.h_m, cache.carry, cache.dtype
    T, B, U = H.shape[0] - 1, H.shape[1], H.shape[2]
    d_out, dh = _d_outputs_in_place(d_outputs, d_hT, T, B, U, dtype)

    # Factors independent of the recurrence, all steps at once: act'(a_t), from the outputs.
    # (At masked steps H holds the carried h, but the factor is zeroed there: nothing flows into the step.)
    DA = _POOL.empty((1, T, B, U), dtype)              # act'(a_t), turned into da_t in place by the loop
    cache.acts[0].derivative(H[1:], DA[0])
    if carry is not None:
        np.copyto(DA[0], 0, where=carry)

    RT = np.ascontiguousarray(cache.R_g[0].T)
    dh_rec = np.empty((B, U), dtype=dtype)
    for t in range(T - 1, -1, -1):                     # dh = d loss / d h_t, complete now
        da = np.multiply(dh, DA[0, t], out=DA[0, t])   # da_t = dh ⊙ act'(a_t)
        np.matmul(da, RT, out=dh_rec)                  # through step t: (da_t R^T) ⊙ m_h
        if h_m is not None:
            dh_rec *= h_m[0]
        if carry is not None:
            np.copyto(dh_rec, dh, where=carry[t])      # masked step: h_t = h_{t-1}
        if t > 0:
            dh, dh_rec = _next_dh(d_out, t, dh, dh_rec)

    dR_g = _recurrent_weight_grad(H[:-1], DA, h_m)
    dx, dW, dR, db = _finish(cache, DA, dR_g)
    _POOL.recycle(DA)
    return dx, dW, dR, db, dh_rec


# ----------------------------------------------------------------------------------------------------------
# GRU                          Keras gate order [z, r, h]; internal slot order [r, z, h]
#     z  = sig( (x⊙m_x^z) W_z + b_z + (h_{t-1}⊙m_h^z) R_z )
#     r  = sig( (x⊙m_x^r) W_r + b_r + (h_{t-1}⊙m_h^r) R_r )
#     hh = act( (x⊙m_x^h) W_h + b_h + (r⊙h_{t-1}⊙m_h^h) R_h )         reset applied before the product
#     h_t = z⊙h_{t-1} + (1-z)⊙hh                                       output_t = h_t
# Backward, dh = d loss / d h_t:
#     da_z = dh ⊙ (h_{t-1} - hh) ⊙ sig'(z)
#     da_h = dh ⊙ (1 - z) ⊙ act'(hh)
#     drh  = da_h R_h^T                              (the gradient of r⊙h_{t-1}⊙m_h^h)
#     da_r = drh ⊙ h_{t-1} ⊙ m_h^h ⊙ sig'(r)
#     dh_{t-1} = dh ⊙ z + drh ⊙ r ⊙ m_h^h + (da_r R_r^T) ⊙ m_h^r + (da_z R_z^T) ⊙ m_h^z
# ----------------------------------------------------------------------------------------------------------

_GRU_SLOTS = (1, 0, 2)                                 # [r, z, h]: sigmoid gates r, z adjacent


def gru_forward(x, W, R, b, h0, *, mask=None, x_masks=None, h_masks=None, activation='tanh',
                recurrent_activation='hard_sigmoid', implementation=0, go_backwards=False, reset_after=False):
    """GRU over a sequence; the reset gate is applied before the recurrent product (Keras 2.0), or after it with
    reset_after=True (see `_gru_reset_after_forward`).

    x (B,T,D), W (D,3U), R (U,3U), b (3U,) or None (reset_after: (2,3U), input bias then recurrent bias),
    h0 (B,U); mask (B,T) bool or None; x_masks (B,D) shared or (3,B,D) per gate [z,r,h]; h_masks (B,U) or
    (3,B,U); or None. Returns (outputs (B,T,U), h_T (B,U), cache).
    """
    if reset_after:
        return _gru_reset_after_forward(x, W, R, b, h0, mask, x_masks, h_masks, activation, recurrent_activation,
                                        implementation, go_backwards)
    act = _get_activation(activation, 'activation')
    sig = _get_activation(recurrent_activation, 'recurrent_activation')
    acts = (sig, sig, act)
    p = _Prepared(x, W, R, b, [h0], 3, _GRU_SLOTS, acts, mask, x_masks, h_masks, implementation, go_backwards,
                  ones=True)
    T, B, U, carry, h_m, dtype = p.T, p.B, p.U, p.carry, p.h_m, p.dtype
    R_rz, R_h = p.Rf_g[:2], p.Rf_g[2]

    G = _input_product(p)                              # x_t W + b per gate; becomes the gate values [r, z, hh]
    H = np.empty((T + 1, B, U), dtype=dtype)           # H[0] = h0, H[t+1] = h after step t
    H[0] = p.states[0]
    RH = _POOL.empty((T, B, U), dtype)                 # r ⊙ h_{t-1} ⊙ m_h^h, kept for dR_h
    rec_rz = np.empty((2, B, U), dtype=dtype)
    rec_h = np.empty((B, U), dtype=dtype)
    hm = None if h_m is None else np.empty(h_m.shape, dtype=dtype)
    for t in range(T):
        h_prev, h = H[t], H[t + 1]
        rz, r, z, hh = G[:2, t], G[0, t], G[1, t], G[2, t]
        if h_m is None:                                # h_{t-1} ⊙ m_h^g for r and z, and m_h^h for the candidate
            hm_rz = hm_h = h_prev
        else:
            np.multiply(h_prev, h_m, out=hm)
            hm_rz, hm_h = hm[:2], hm[-1]
        np.matmul(hm_rz, R_rz, out=rec_rz)
        np.add(rz, rec_rz, out=rz)
        sig.g(rz, rz)                                  # r, z = sig(.)
        rh = np.multiply(r, hm_h, out=RH[t])           # r ⊙ h_{t-1} ⊙ m_h^h
        np.matmul(rh, R_h, out=rec_h)
        np.add(hh, rec_h, out=hh)
        act.g(hh, hh)                                  # hh = act(.)
        np.subtract(h_prev, hh, out=h)                 # h_t = hh + z ⊙ (h_{t-1} - hh)
        np.multiply(h, z, out=h)
        np.add(h, hh, out=h)
        if carry is not None:
            np.copyto(h, h_prev, where=carry[t])       # masked step: h carries over

    cache = _make_cache(p, 'gru', _GRU_SLOTS, acts, b is not None, go_backwards, pooled=(G, RH), G=G, H=H, RH=RH,
                        reset_after=False)
    return H[1:].transpose(1, 0, 2), H[T], cache


def gru_backward(cache, d_outputs, d_hT):
    """BPTT for `gru_forward`. d_outputs (B,T,U) or None, d_hT (B,U) or None.

    Returns (dx (B,T,D), dW (D,3U), dR (U,3U), db (3U,) (reset_after: (2,3U)) or None, dh0 (B,U)).
    """
    if cache.reset_after:
        return _gru_reset_after_backward(cache, d_outputs, d_hT)
    G, H, h_m, carry, dtype = cache.G, cache.H, cache.h_m, cache.carry, cache.dtype
    sig, act = cache.acts[0], cache.acts[2]
    _, T, B, U = G.shape
    d_out, dh = _d_outputs_in_place(d_outputs, d_hT, T, B, U, dtype)
    Hprev = H[:-1]
    r, z, hh = G[0], G[1], G[2]

    # Factors independent of the recurrence, all steps at once, in one buffer whose slots line up with the
    # step's products: drh ⊙ P[0:2] and dh ⊙ P[2:5]. Slots 1:4 become da = [da_r, da_z, da_h] in place.
    P = _POOL.empty((5, T, B, U), dtype)               # (P[0] serves as scratch until it is set)
    sig.derivative(G[:2], P[1:3])
    P[1] *= Hprev                                      # da_r = drh ⊙ [h_{t-1} ⊙ m_h^h ⊙ sig'(r)]
    np.subtract(Hprev, hh, out=P[0])                   # da_z = dh ⊙ [(h_{t-1} - hh) ⊙ sig'(z)]
    P[2] *= P[0]
    act.derivative(hh, P[3])                           # da_h = dh ⊙ [(1 - z) ⊙ act'(hh)]
    np.subtract(1, z, out=P[0])
    P[3] *= P[0]
    np.copyto(P[0], r)                                 # dh_{t-1} gets drh ⊙ [r ⊙ m_h^h]
    if h_m is not None:
        P[0:2] *= h_m[-1]                              # m_h^h, the mask on r ⊙ h_{t-1} in the candidate
    np.copyto(P[4], z)                                 # dh_{t-1} gets dh ⊙ [z]
    if carry is not None:                              # masked step: no gradient into it, h carries
        np.copyto(P, 0, where=carry)
        np.copyto(P[4], 1, where=carry)

    RT_rz = np.ascontiguousarray(cache.R_g[:2].transpose(0, 2, 1))      # (2,U,U): R_r^T, R_z^T
    RT_h = np.ascontiguousarray(cache.R_g[2].T)
    drh = np.empty((B, U), dtype=dtype)
    dh_rec = np.empty((B, U), dtype=dtype)
    rec = np.empty((2, B, U), dtype=dtype)
    for t in range(T - 1, -1, -1):                     # dh = d loss / d h_t, complete now
        np.multiply(dh, P[2:5, t], out=P[2:5, t])      # da_z, da_h, dh ⊙ z
        np.matmul(P[3, t], RT_h, out=drh)              # drh = da_h R_h^T
        np.multiply(drh, P[0:2, t], out=P[0:2, t])     # drh ⊙ r ⊙ m_h^h, da_r
        np.matmul(P[1:3, t], RT_rz, out=rec)           # da_r R_r^T, da_z R_z^T
        if h_m is not None:
            rec *= h_m[:2]
        np.add(rec[0], rec[1], out=dh_rec)             # the gradient reaching h_{t-1} through step t
        dh_rec += P[0, t]
        dh_rec += P[4, t]
        if t > 0:
            dh, dh_rec = _next_dh(d_out, t, dh, dh_rec)

    DA = P[1:4]
    dR_g = np.empty((3, U, U), dtype=dtype)
    dR_g[:2] = _recurrent_weight_grad(Hprev, DA[:2], None if h_m is None else h_m[:2])
    dR_g[2] = np.matmul(cache.RH.reshape(T * B, U).T, DA[2].reshape(T * B, U))
    dx, dW, dR, db = _finish(cache, DA, dR_g)
    _POOL.recycle(P)
    return dx, dW, dR, db, dh_rec


# ----------------------------------------------------------------------------------------------------------
# GRU, reset_after=True (later Keras, cuDNN, PyTorch)     Keras gate order [z, r, h]; internal slot order [r, z, h]
# The bias is (2, 3U): b (input bias) and b' (recurrent bias); the reset gate multiplies the recurrent product:
#     z  = sig( (x⊙m_x^z) W_z + b_z + (h_{t-1}⊙m_h^z) R_z + b'_z )
#     r  = sig( (x⊙m_x^r) W_r + b_r + (h_{t-1}⊙m_h^r) R_r + b'_r )
#     q  = (h_{t-1}⊙m_h^h) R_h + b'_h                                   the candidate's recurrent product
#     hh = act( (x⊙m_x^h) W_h + b_h + r⊙q )                             reset applied after the product
#     h_t = z⊙h_{t-1} + (1-z)⊙hh                                        output_t = h_t
# Backward, dh = d loss / d h_t. Every gate's gradient is dh times a factor known before the loop:
#     da_h = dh ⊙ (1 - z) ⊙ act'(hh)
#     dq   = da_h ⊙ r
#     da_r = da_h ⊙ q ⊙ sig'(r)
#     da_z = dh ⊙ (h_{t-1} - hh) ⊙ sig'(z)
#     dh_{t-1} = dh ⊙ z + (da_z R_z^T) ⊙ m_h^z + (da_r R_r^T) ⊙ m_h^r + (dq R_h^T) ⊙ m_h^h
#     db = sum of [da_z, da_r, da_h];   db' = sum of [da_z, da_r, dq];   dR_h = sum of (h_{t-1}⊙m_h^h)^T dq
# ----------------------------------------------------------------------------------------------------------

def _gru_reset_after_forward(x, W, R, b, h0, mask, x_masks, h_masks, activation, recurrent_activation,
                             implementation, go_backwards):
    act = _get_activation(activation, 'activation')
    sig = _get_activation(recurrent_activation, 'recurrent_activation')
    acts = (sig, sig, act)
    U3 = np.shape(W)[-1]
    b_rec_h = None
    if b is not None:
        b = np.asarray(b)
        if b.shape != (2, U3):
            raise ValueError('with reset_after=True, b must have shape %s (input bias, recurrent bias), got %s'
                             % ((2, U3), b.shape))
        # b'_z, b'_r are constants added to the gates' pre-activations like b_z, b_r: they join the input bias;
        # b'_h sits inside r ⊙ q, so it stays apart
        U = U3 // 3
        b_rec_h = b[1, 2 * U:]
        b = b[0] + np.concatenate([b[1, :2 * U], np.zeros(U, b.dtype)])
    p = _Prepared(x, W, R, b, [h0], 3, _GRU_SLOTS, acts, mask, x_masks, h_masks, implementation, go_backwards,
                  ones=True)
    T, B, U, carry, h_m, dtype = p.T, p.B, p.U, p.carry, p.h_m, p.dtype
    R3 = np.stack([p.Rf_g[0], p.Rf_g[1], p.R_g[2]])    # r, z folded; the candidate's R_h as it is (q unscaled)
    b_q = None if b_rec_h is None else b_rec_h.astype(dtype)

    G = _input_product(p)                              # x_t W + b per gate; becomes the gate values [r, z, hh]
    H = np.empty((T + 1, B, U), dtype=dtype)           # H[0] = h0, H[t+1] = h after step t
    H[0] = p.states[0]
    Q = _POOL.empty((T, B, U), dtype)                  # q, kept for da_r
    rec = np.empty((3, B, U), dtype=dtype)
    rq = np.empty((B, U), dtype=dtype)
    hm = None if h_m is None else np.empty(h_m.shape, dtype=dtype)
    matmul, add, multiply = np.matmul, np.add, np.multiply
    for t in range(T):
        h_prev, h = H[t], H[t + 1]
        rz, r, z, hh, q = G[:2, t], G[0, t], G[1, t], G[2, t], Q[t]
        matmul(h_prev if h_m is None else multiply(h_prev, h_m, hm), R3, rec)   # (h_{t-1} ⊙ m_h^g) R_g
        add(rz, rec[:2], rz)
        sig.g(rz, rz)                                  # r, z = sig(.)
        if b_q is None:
            np.copyto(q, rec[2])
        else:
            add(rec[2], b_q, q)                        # q = (h_{t-1} ⊙ m_h^h) R_h + b'_h
        multiply(r, q, rq)                             # r ⊙ q
        if act.scale != 1.0:
            rq *= act.scale
        add(hh, rq, hh)
        act.g(hh, hh)                                  # hh = act(.)
        np.subtract(h_prev, hh, out=h)                 # h_t = hh + z ⊙ (h_{t-1} - hh)
        multiply(h, z, out=h)
        add(h, hh, out=h)
        if carry is not None:
            np.copyto(h, h_prev, where=carry[t])       # masked step: h carries over

    cache = _make_cache(p, 'gru', _GRU_SLOTS, acts, b_rec_h is not None, go_backwards, pooled=(G, Q), G=G, H=H,
                        Q=Q, reset_after=True)
    return H[1:].transpose(1, 0, 2), H[T], cache


def _gru_reset_after_backward(cache, d_outputs, d_hT):
    G, H, Q, h_m, carry, dtype = cache.G, cache.H, cache.Q, cache.h_m, cache.carry, cache.dtype
    sig, act = cache.acts[0], cache.acts[2]
    _, T, B, U = G.shape
    d_out, dh = _d_outputs_in_place(d_outputs, d_hT, T, B, U, dtype)
    Hprev = H[:-1]
    r, z, hh = G[0], G[1], G[2]

    # The factors, all steps at once: a step multiplies dh into P[:, t] = [dq, da_r, da_z, da_h, dh ⊙ z], so that
    # P[0:3] (with R_h, R_r, R_z) makes dh_{t-1} in one product and P[1:4] = da in slot order [r, z, h].
    P = _POOL.empty((5, T, B, U), dtype)
    act.derivative(hh, P[3])
    np.subtract(1, z, out=P[4])
    P[3] *= P[4]                                       # da_h = dh ⊙ [(1 - z) ⊙ act'(hh)]
    np.multiply(P[3], r, out=P[0])                     # dq   = dh ⊙ [(1 - z) ⊙ act'(hh) ⊙ r]
    sig.derivative(G[:2], P[1:3])
    P[1] *= Q                                          # da_r = dh ⊙ [(1 - z) ⊙ act'(hh) ⊙ q ⊙ sig'(r)]
    P[1] *= P[3]
    np.subtract(Hprev, hh, out=P[4])                   # da_z = dh ⊙ [(h_{t-1} - hh) ⊙ sig'(z)]
    P[2] *= P[4]
    np.copyto(P[4], z)                                 # dh_{t-1} gets dh ⊙ [z]
    if carry is not None:                              # masked step: no gradient into it, h carries
        np.copyto(P[:4], 0, where=carry)
        np.copyto(P[4], 1, where=carry)

    R_g = cache.R_g                                    # slot order [r, z, h]
    RT3 = np.ascontiguousarray(np.stack([R_g[2], R_g[0], R_g[1]]).transpose(0, 2, 1))   # R_h^T, R_r^T, R_z^T
    hm3 = None if h_m is None else (h_m if h_m.shape[0] == 1 else np.ascontiguousarray(h_m[[2, 0, 1]]))
    dh_rec = np.empty((B, U), dtype=dtype)
    rec = np.empty((3, B, U), dtype=dtype)
    for t in range(T - 1, -1, -1):                     # dh = d loss / d h_t, complete now
        np.multiply(dh, P[:, t], out=P[:, t])          # dq, da_r, da_z, da_h, dh ⊙ z
        np.matmul(P[0:3, t], RT3, out=rec)             # dq R_h^T, da_r R_r^T, da_z R_z^T
        if hm3 is not None:
            rec *= hm3
        np.add(rec[0], rec[1], out=dh_rec)             # the gradient reaching h_{t-1} through step t
        dh_rec += rec[2]
        dh_rec += P[4, t]
        if t > 0:
            dh, dh_rec = _next_dh(d_out, t, dh, dh_rec)

    dR_g = np.empty((3, U, U), dtype=dtype)
    dR_g[:2] = _recurrent_weight_grad(Hprev, P[1:3], None if h_m is None else h_m[:2])
    dR_g[2] = _recurrent_weight_grad(Hprev, P[0:1], None if h_m is None else h_m[-1:])[0]
    dx, dW, dR, db = _finish(cache, P[1:4], dR_g)
    if db is not None:                                 # db' = [db_z, db_r, sum of dq]
        db_rec = db.copy()
        db_rec[2 * U:] = P[0].reshape(T * B, U).sum(axis=0)
        db = np.stack([db, db_rec])
    _POOL.recycle(P)
    return dx, dW, dR, db, dh_rec


# ----------------------------------------------------------------------------------------------------------
# LSTM                    Keras gate order [i, f, c, o]; internal slot order [o, i, f, c]
#     i = sig( (x⊙m_x^i) W_i + b_i + (h_{t-1}⊙m_h^i) R_i )
#     f = sig( (x⊙m_x^f) W_f + b_f + (h_{t-1}⊙m_h^f) R_f )
#     g = act( (x⊙m_x^c) W_c + b_c + (h_{t-1}⊙m_h^c) R_c )            the cell candidate
#     o = sig( (x⊙m_x^o) W_o + b_o + (h_{t-1}⊙m_h^o) R_o )
#     c_t = f⊙c_{t-1} + i⊙g
#     h_t = o⊙act(c_t)                                                 output_t = h_t
# Backward, dh = d loss / d h_t and dc = d loss / d c_t (so far: through c_{t+1}):
#     da_o = dh ⊙ act(c_t) ⊙ sig'(o)
#     dc  += dh ⊙ o ⊙ act'(c_t)
#     da_i = dc ⊙ g ⊙ sig'(i)
#     da_f = dc ⊙ c_{t-1} ⊙ sig'(f)
#     da_c = dc ⊙ i ⊙ act'(g)
#     dc_{t-1} = dc ⊙ f
#     dh_{t-1} = sum over gates of (da_gate R_gate^T) ⊙ m_h^gate
# ----------------------------------------------------------------------------------------------------------

_LSTM_SLOTS = (3, 0, 1, 2)                             # [o, i, f, c]: sigmoid gates o, i, f adjacent


def lstm_forward(x, W, R, b, h0, c0, *, mask=None, x_masks=None, h_masks=None, activation='tanh',
                 recurrent_activation='hard_sigmoid', implementation=0, go_backwards=False):
    """LSTM over a sequence.

    x (B,T,D), W (D,4U), R (U,4U), b (4U,) or None, h0 and c0 (B,U); mask (B,T) bool or None;
    x_masks (B,D) shared or (4,B,D) per gate [i,f,c,o]; h_masks (B,U) or (4,B,U); or None.
    Returns (outputs (B,T,U), h_T (B,U), c_T (B,U), cache).

    Layout: G (T+1, 6, B, U), step-major; G[t] = [o, i, f, g, c_{t-1}, act(c_t)] (gate values, the cell state
    entering step t and the activated state leaving it), so that i⊙g and f⊙c_{t-1} are one call on two adjacent
    pairs. With sigmoid gates and a tanh candidate one tanh covers all four gates (the sigmoid's 1/2 is folded
    into its weights).
    """
    act = _get_activation(activation, 'activation')
    sig = _get_activation(recurrent_activation, 'recurrent_activation')
    acts = (sig, sig, sig, act)
    p = _Prepared(x, W, R, b, [h0, c0], 4, _LSTM_SLOTS, acts, mask, x_masks, h_masks, implementation,
                  go_backwards, ones=True)
    T, B, U, carry, h_m, dtype, R_ = p.T, p.B, p.U, p.carry, p.h_m, p.dtype, p.Rf_g

    G = _input_product_steps(p, 2)                     # x_t W + b per gate; becomes [o, i, f, g, c_{t-1}, act(c_t)]
    G[0, 4] = p.states[1]
    H = np.empty((T + 1, B, U), dtype=dtype)           # H[0] = h0, H[t+1] = h after step t
    H[0] = p.states[0]
    rec = np.empty((4, B, U), dtype=dtype)
    hm = None if h_m is None else np.empty(h_m.shape, dtype=dtype)
    pair = np.empty((2, B, U), dtype=dtype)
    ig, fc = pair
    one_tanh = sig is _ACTIVATIONS['sigmoid'] and act is _ACTIVATIONS['tanh']
    half = _CONSTANTS.get((0.5, np.dtype(dtype)), 0.5)
    act_c = act.g if act.scale == 1.0 and act.shift == 0.0 else act.apply
    matmul, add, multiply, tanh = np.matmul, np.add, np.multiply, np.tanh
    # each step's views of G and H, made by numpy's iterators (a slice in the loop costs a Python call per view:
    # about 1 us per step at small sizes): the gates [o, i, f, g], the sigmoid gates [o, i, f], o, [i, f], [g, c_{t-1}],
    # c_{t-1}, c_t, act(c_t), h_{t-1}, h_t
    steps = zip(G[:T, :4], G[:T, :3], G[:T, 0], G[:T, 1:3], G[:T, 3:5], G[:T, 4], G[1:, 4], G[:T, 5], H[:T], H[1:])
    for t, (gates, sg, o, i_f, g_c, c_prev, c, a, h_prev, h) in enumerate(steps):
        matmul(h_prev if h_m is None else multiply(h_prev, h_m, hm), R_, rec)   # (h_{t-1} ⊙ m_h^gate) R_gate
        add(gates, rec, gates)
        if one_tanh:
            tanh(gates, gates)                         # g = tanh(.), and tanh(a/2) for o, i, f ...
            multiply(sg, half, sg)                     # ... so that o, i, f = tanh(a/2)/2 + 1/2 = sig(a)
            add(sg, half, sg)
        else:
            sig.g(sg, sg)                              # o, i, f = sig(.)
            act.g(gates[3], gates[3])                  # g = act(.)
        multiply(i_f, g_c, pair)                       # i ⊙ g, f ⊙ c_{t-1}
        add(ig, fc, c)                                 # c_t
        act_c(c, a)                                    # h_t = o ⊙ act(c_t)
        multiply(o, a, h)
        if carry is not None:                          # masked step: h and c carry over
            np.copyto(h, h_prev, where=carry[t])
            np.copyto(c, c_prev, where=carry[t])

    cache = _make_cache(p, 'lstm', _LSTM_SLOTS, acts, b is not None, go_backwards, pooled=(G,), G=G, H=H, W=p.W)
    return H[1:].transpose(1, 0, 2), H[T], G[T, 4].copy(), cache


_LSTM_PER_STEP_FACTORS = 8192                         # batch * units from which backward's factors are per step


def _lstm_factors(Gs, P, act, sig, carry):
    """Backward's factors of steps Gs (n, 6, B, U) = [o, i, f, g, c_{t-1}, act(c_t)] into P (n, 6, B, U):
    [o ⊙ act'(c_t), act(c_t) ⊙ sig'(o), g ⊙ sig'(i), c_{t-1} ⊙ sig'(f), i ⊙ act'(g), f]. (Single-slot operations
    on step-major arrays are slow per element: several slots per call where possible.)"""
    o, i, f, g, c_prev, a = (Gs[:, j] for j in range(6))
    if act is _ACTIVATIONS['tanh']:                    # act' for g, c_{t-1} (unused) and act(c_t) in one go
        act.derivative(Gs[:, 3:6], P[:, 3:6])
        np.multiply(P[:, 3], i, out=P[:, 4])           # da_c = dc ⊙ [i ⊙ act'(g)]
        np.multiply(P[:, 5], o, out=P[:, 0])           # dc += dh ⊙ [o ⊙ act'(c_t)]
    else:
        act.derivative(a, P[:, 0])
        P[:, 0] *= o
        act.derivative(g, P[:, 4])
        P[:, 4] *= i
    sig.derivative(Gs[:, :3], P[:, 1:4])
    P[:, 1] *= a                                       # da_o = dh ⊙ [act(c_t) ⊙ sig'(o)]
    P[:, 2] *= g                                       # da_i = dc ⊙ [g ⊙ sig'(i)]
    P[:, 3] *= c_prev                                  # da_f = dc ⊙ [c_{t-1} ⊙ sig'(f)]
    np.copyto(P[:, 5], f)                              # dc_{t-1} = dc ⊙ [f]
    if carry is not None:                              # masked step: no gradient into it, h and c carry
        np.copyto(P[:, :5], 0, where=carry[:, None])
        np.copyto(P[:, 5], 1, where=carry)


def lstm_backward(cache, d_outputs, d_hT, d_cT):
    """BPTT for `lstm_forward`. d_outputs (B,T,U) or None; d_hT, d_cT (B,U) or None.

    Returns (dx (B,T,D), dW (D,4U), dR (U,4U), db (4U,) or None, dh0 (B,U), dc0 (B,U)).
    """
    G, h_m, carry, dtype = cache.G, cache.h_m, cache.carry, cache.dtype
    sig, act = cache.acts[0], cache.acts[3]
    T, B, U = G.shape[0] - 1, G.shape[2], G.shape[3]
    Gs = G[:T]

    # Factors independent of the recurrence, step-major like G: a step multiplies dh into P[t, 0:2] and dc into
    # P[t, 2:6]; slots 1:5 become da = [da_o, da_i, da_f, da_c] in place, slot 5 dc_{t-1}. Computed for all steps
    # at once when the steps are small (fewer numpy calls), else step by step inside the loop (in cache).
    P = _POOL.empty((T, 6, B, U), dtype)
    per_step = B * U >= _LSTM_PER_STEP_FACTORS
    if not per_step:
        _lstm_factors(Gs, P, act, sig, carry)

    d_out, dh = _d_outputs_in_place(d_outputs, d_hT, T, B, U, dtype)
    RT = np.ascontiguousarray(cache.R_g.transpose(0, 2, 1))           # (4,U,U): R_gate^T
    dc_next = None if d_cT is None else np.asarray(d_cT, dtype=dtype)
    dh_rec = np.empty((B, U), dtype=dtype)
    rec = np.empty((4, B, U), dtype=dtype)
    matmul, add, multiply, reduce = np.matmul, np.add, np.multiply, np.add.reduce
    # each step's views of P, last step first (made by numpy's iterators, not sliced in the loop): the slots scaled
    # by dh [0:2], dc (slot 0), the slots scaled by dc [2:6], dc_{t-1} (slot 5), da [1:5]
    steps = zip(range(T - 1, -1, -1), P[::-1, 0:2], P[::-1, 0], P[::-1, 2:6], P[::-1, 5], P[::-1, 1:5])
    for t, by_dh, dc, by_dc, dc_prev, da in steps:    # dh = d loss / d h_t, complete now
        if per_step:
            _lstm_factors(G[t:t + 1], P[t:t + 1], act, sig, None if carry is None else carry[t:t + 1])
        multiply(dh, by_dh, by_dh)                     # dh ⊙ o ⊙ act'(c_t), da_o
        if dc_next is not None:
            add(dc, dc_next, dc)                       # dc = d loss / d c_t
        multiply(dc, by_dc, by_dc)                     # da_i, da_f, da_c, dc_{t-1}
        dc_next = dc_prev
        matmul(da, RT, rec)                            # da_gate R_gate^T
        if h_m is not None:
            rec *= h_m
        reduce(rec, 0, None, dh_rec)                   # the gradient reaching h_{t-1} through step t
        if carry is not None:
            np.copyto(dh_rec, dh, where=carry[t])      # masked step: h_t = h_{t-1}
        if t > 0:                                      # dh_{t-1} = d output_{t-1} + dh_rec, over the spent dh_t
            if d_out is None:
                dh, dh_rec = dh_rec, dh
            else:
                add(d_out[t - 1], dh_rec, dh)
    dc0 = np.array(dc_next)                            # (a view into P, which goes back to the pool)

    DA = _rows_in_keras_order(P, 1, _LSTM_SLOTS)       # (T*B, 4U) in P's memory
    dx, dW, dR, db = _finish_rows(cache, DA, cache.H[:-1])
    _POOL.recycle(P)
    return dx, dW, dR, db, dh_rec, dc0
