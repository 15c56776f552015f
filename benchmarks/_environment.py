"""What the benchmark scripts share: the machine they ran on, optional libraries, and thread limits.

Imported by the scripts in this folder (``python benchmarks/<script>.py`` puts the folder first on sys.path).
"""
import contextlib
import os
import platform

try:
    import threadpoolctl
except ImportError:  # optional: without it the thread limits come from environment variables
    threadpoolctl = None

__all__ = ["optional", "dist_version", "cpu_model", "blas_info", "blas_env", "loadavg", "thread_limit",
           "threadpoolctl"]


def optional(name):
    """The module ``name``, or None when it is not installed."""
    try:
        return __import__(name)
    except ImportError:
        return None


def dist_version(name):
    """An installed distribution's version, or None."""
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # noqa: BLE001 - not installed, or no metadata
        return None


def cpu_model():
    """'model name (family f model m), caches, SIMD flags' from /proc/cpuinfo and /sys (Linux), else platform."""
    fields, flags = {}, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" in line:
                    k, v = (x.strip() for x in line.split(":", 1))
                    if k == "flags":
                        flags = set(v.split())
                    fields.setdefault(k, v)
    except OSError:
        return platform.processor() or platform.machine()
    out = fields.get("model name", platform.machine())
    if "cpu family" in fields:
        out += " (family %s model %s)" % (fields["cpu family"], fields.get("model", "?"))
    caches = []
    for idx in range(6):
        d = "/sys/devices/system/cpu/cpu0/cache/index%d/" % idx
        try:
            level, kind, size = (open(d + n).read().strip() for n in ("level", "type", "size"))
        except OSError:
            break
        if kind != "Instruction":
            caches.append("L%s %s" % (level, size))
    if caches:
        out += ", " + " ".join(caches) + " per core/cluster"
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    if simd:
        out += ", " + "/".join(simd)
    return out


def blas_info():
    """numpy's BLAS and OpenMP libraries as threadpoolctl sees them (version, kernels, threads)."""
    if threadpoolctl is None:
        return "threadpoolctl not installed (BLAS unknown)"
    parts = []
    for i in threadpoolctl.threadpool_info():
        what = " ".join(str(v) for v in (i.get("internal_api"), i.get("version"), i.get("architecture")) if v)
        parts.append("%s [%s, %s, %s threads]" % (what, i.get("user_api"), os.path.basename(i.get("filepath", "")),
                                                  i.get("num_threads")))
    return "; ".join(parts)


def blas_env(extra=()):
    """The environment variables that steer BLAS and threading (``OPENBLAS_*``, ``OMP_*``, ``MKL_*``...)."""
    return {k: v for k, v in os.environ.items()
            if k.startswith(("OPENBLAS", "OMP_", "MKL_", "GOTO")) or k in ("NUMEXPR_NUM_THREADS", *extra)}


def loadavg():
    """The 1, 5 and 15 minute load averages (NaN where the system does not say)."""
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


@contextlib.contextmanager
def thread_limit(n, torch=None):
    """numpy's BLAS (threadpoolctl) and torch limited to ``n`` threads inside the block."""
    ctl = threadpoolctl.threadpool_limits(limits=n) if threadpoolctl is not None else None
    old = None
    if torch is not None:
        old = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch is not None:
            torch.set_num_threads(old)
        if ctl is not None:
            ctl.restore_original_limits()
