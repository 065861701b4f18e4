"""nutpie's compiled model with its two C callbacks cached on disk, so a repeated compile in a new process is quick.

``nutpie.compile_pymc_model`` compiles the model's log density and gradient, and the function that expands
draws into every variable, as PyTensor numba functions, which PyTensor caches on disk, and then wraps each in a
``numba.cfunc`` that the sampler calls. Those wrappers cannot be cached as nutpie writes them (nutpie 0.16): they
close over the data arrays (numba's "dynamic globals") and name the data by a fresh ``uuid4`` in every process.
Compiling them is most of a compile: 4-9 s for any model, every job, every time.

``compile_nutpie_model`` builds the same model through nutpie, with two differences that change nothing the
sampler computes: the data keys are numbered in nutpie's own order instead of random, and each wrapper is
written out as a small module (``callback_source``) that reads the data only through the pointers nutpie passes
it and calls the PyTensor function as a module global. Its file name is a hash of its text, which names the
PyTensor function's own cache entry, so a cached wrapper is only ever loaded for the function it was compiled
with; numba caches it next to the file (``CALLBACK_DIR``). When PyTensor could not cache a function, there is
nothing to key the wrapper by and nutpie compiles the model its own way.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import os
import sys
import threading
import types
from pathlib import Path

#: Where the generated wrapper modules and numba's cache of them live (beside PyTensor's own cache).
CALLBACK_DIR_ENV = "BINOVAL_NUTPIE_CACHE"
_PATCH_LOCK = threading.Lock()
#: What ``compile_nutpie_model`` replaces in ``nutpie.compile_pymc`` while it compiles (nutpie 0.16's private names).
_PATCHED = ("uuid4", "_make_c_logp_func", "_make_c_expand_func", "address_as_void_pointer")


class _NotCacheable(Exception):
    """A PyTensor function without an on-disk cache entry: nothing identifies a cached wrapper of it."""


def callback_dir() -> Path:
    """The directory of the generated wrapper modules: ``$BINOVAL_NUTPIE_CACHE``, else beside PyTensor's cache."""
    if os.environ.get(CALLBACK_DIR_ENV):
        return Path(os.environ[CALLBACK_DIR_ENV])
    import pytensor

    return Path(pytensor.config.compiledir).parent / "binoval_nutpie"


class _ArvizOnFirstUse(types.ModuleType):
    """Stands for ``arviz`` in ``nutpie.sample``: a module is imported when nutpie first reads an attribute of it,
    i.e. when it converts a trace to ArviZ (SBC shards read nutpie's raw trace and never do). The conversion's
    functions (``from_dict``, ``dict_to_dataset``) are arviz-base's, which ``arviz`` re-exports: only arviz-base is
    imported for them, not the whole of ArviZ (arviz-stats, arviz-plots, matplotlib: about a second)."""

    def __getattr__(self, name):
        if sys.modules.get("arviz") is self:
            del sys.modules["arviz"]
        base = importlib.import_module("arviz_base")
        if hasattr(base, name):
            return getattr(base, name)
        return getattr(importlib.import_module("arviz"), name)


def import_nutpie():
    """``nutpie``, imported without importing ArviZ until nutpie uses it.

    nutpie 0.16 imports ArviZ when it is imported (``nutpie.sample``), and ArviZ imports arviz-stats, arviz-plots,
    matplotlib and scipy.stats: 1.1-1.5 s of every job that samples, most of a shard's start-up, for a module only
    its conversion to ArviZ uses. A process that has imported ArviZ already gets nutpie as it is.
    """
    if "nutpie" in sys.modules or "arviz" in sys.modules:
        import nutpie

        return nutpie
    sys.modules["arviz"] = _ArvizOnFirstUse("arviz")
    try:
        import nutpie
    finally:
        if isinstance(sys.modules.get("arviz"), _ArvizOnFirstUse):
            del sys.modules["arviz"]
    return nutpie


def compile_nutpie_model(model):
    """``nutpie.compile_pymc_model(model)`` (numba backend, nutpie's defaults), with cached C callbacks."""
    nutpie = import_nutpie()

    with _PATCH_LOCK:
        try:
            with _cacheable_callbacks():
                return nutpie.compile_pymc_model(model, cache=True)
        except _NotCacheable:
            pass
    return nutpie.compile_pymc_model(model)


@contextlib.contextmanager
def _cacheable_callbacks():
    from nutpie import compile_pymc

    if not all(hasattr(compile_pymc, name) for name in _PATCHED):
        raise _NotCacheable(f"nutpie {compile_pymc.__name__} lacks one of {_PATCHED}")
    numbered = itertools.count()

    class _Key:
        def __init__(self):
            self.hex = f"shared{next(numbered)}"

    saved = compile_pymc.uuid4, compile_pymc._make_c_logp_func, compile_pymc._make_c_expand_func
    compile_pymc.uuid4 = _Key
    compile_pymc._make_c_logp_func = _make_logp_callback
    compile_pymc._make_c_expand_func = _make_expand_callback
    try:
        yield
    finally:
        compile_pymc.uuid4, compile_pymc._make_c_logp_func, compile_pymc._make_c_expand_func = saved


def _make_logp_callback(n_dim, logp_fn, user_data, shared_keys, shared_data):
    import numba

    c_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    source = callback_source("logp", n_dim, None, logp_fn, user_data.dtype, shared_keys, shared_data)
    return _load_callback(source, logp_fn), c_sig


def _make_expand_callback(n_dim, n_expanded, expand_fn, user_data, shared_keys, shared_data):
    import numba

    c_sig = numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    source = callback_source("expand", n_dim, n_expanded, expand_fn, user_data.dtype, shared_keys, shared_data)
    return _load_callback(source, expand_fn), c_sig


def inner_cache_name(function) -> str:
    """The name of the on-disk cache entry of a PyTensor numba function; ``_NotCacheable`` if it has none."""
    cache_file = getattr(getattr(function, "_cache", None), "_cache_file", None)
    if cache_file is None:
        raise _NotCacheable(function)
    return str(cache_file._index_name)


def callback_source(kind, n_dim, n_expanded, inner, record_dtype, shared_keys, shared_data) -> str:
    """The text of a wrapper module: nutpie's ``logp_numba`` or ``expand_numba`` (same checks, same return codes),
    with each data array read through the pointer, size and shape nutpie stores in ``user_data``."""
    lines = [
        f"# nutpie {kind} callback of {inner_cache_name(inner)}",
        "import numba",
        "import numpy as np",
        "from nutpie.compile_pymc import address_as_void_pointer",
        "",
        f"RECORD = np.dtype({record_dtype.descr!r})",
        "inner = None  # the PyTensor function named above, set before numba compiles this module",
        "",
    ]
    arrays = []
    for i, key in enumerate(shared_keys):
        value = shared_data[key]
        lines.append(f"DTYPE{i} = np.dtype({value.dtype.str!r})")
        shape = ", ".join(f'int(shared["shape"]["{key}"][{d}])' for d in range(value.ndim))
        shape = f"({shape},)" if value.ndim == 1 else f"({shape})"
        arrays.append(
            f'a{i} = numba.carray(address_as_void_pointer(shared["data"]["{key}"][()]), '
            f'int(shared["size"]["{key}"][()]), DTYPE{i}).reshape({shape})'
        )
    arguments = "".join(f", a{i}" for i in range(len(shared_keys)))
    read_data = ["user_data = numba.carray(user_data_, (), RECORD)", 'shared = user_data["shared"]', *arrays]
    if kind == "logp":
        header = ["def callback(dim, x_, out_, logp_, user_data_):", f"    if dim != {n_dim}:", "        return -1"]
        body = [
            f"x = numba.carray(x_, ({n_dim},))",
            f"out = numba.carray(out_, ({n_dim},))",
            "logp = numba.carray(logp_, ())",
            *read_data,
            f"logp_val, grad = inner(x{arguments})",
            "logp[()] = logp_val",
            "out[...] = grad",
            "if not np.all(np.isfinite(out)):",
            "    return 3",
            "if not np.isfinite(logp_val):",
            "    return 4",
        ]
        failure = 1
    else:
        header = [
            "def callback(dim, expanded, x_, out_, user_data_):",
            f"    if dim != {n_dim}:",
            "        return -1",
            f"    if expanded != {n_expanded}:",
            "        return -1",
        ]
        body = [
            f"x = numba.carray(x_, ({n_dim},))",
            f"out = numba.carray(out_, ({n_expanded},))",
            *read_data,
            f"(values,) = inner(x{arguments})",
            "out[...] = values",
        ]
        failure = -2
    lines += ["", *header, "    try:", *(f"        {line}" for line in body)]
    lines += ["    except Exception:", f"        return {failure}", "    return 0", ""]
    return "\n".join(lines)


def _load_callback(source: str, inner):
    """Write ``source`` under a name hashed from it (once: numba's cache is keyed by the file's time stamp),
    import it, give it its PyTensor function and return its ``callback``."""
    directory = callback_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = "callback_" + hashlib.sha256(source.encode()).hexdigest()[:32]
    path = directory / f"{name}.py"
    if not path.exists():
        # linked, never replaced: a file another job wrote first keeps its time stamp, and so numba's cache of it
        partial = directory / f".{name}.{os.getpid()}.tmp"
        partial.write_text(source)
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    spec = importlib.util.spec_from_file_location(f"binoval_nutpie_{name}", path)
    module = importlib.util.module_from_spec(spec)
    # numba names a function's environment by its module and finds that module in sys.modules when it loads the
    # function from its cache; a module it cannot find there becomes "<dynamic>", which no cache load can import.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.inner = inner
    return module.callback
