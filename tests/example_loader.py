"""Loading an example script as a module for its smoke tests.

The examples import ``_common`` (and some import each other, e.g. ``adding_problem``), which sets BLAS-thread
environment variables; ``load_example`` puts examples/ on sys.path, runs with one BLAS thread when threadpoolctl is
there (tiny matrices run several times faster), and afterwards restores sys.path, the modules it replaced and the
environment, so the other tests see none of it.
"""
import contextlib
import importlib.util
import os
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def load_example(script, imports=("_common",)):
    """The module of ``examples/<script>`` inside the block; ``imports``: the example modules it imports."""
    saved_env = {var: os.environ.get(var) for var in _THREAD_VARS}
    saved_modules = {name: sys.modules.pop(name, None) for name in imports}
    sys.path.insert(0, str(EXAMPLES))
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=1)
    except ImportError:
        limits = contextlib.nullcontext()
    try:
        with limits:
            spec = importlib.util.spec_from_file_location("example_" + Path(script).stem, EXAMPLES / script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            yield module
    finally:
        sys.path.remove(str(EXAMPLES))
        for name, module in saved_modules.items():
            sys.modules.pop(name, None)
            if module is not None:
                sys.modules[name] = module
        for var, value in saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
