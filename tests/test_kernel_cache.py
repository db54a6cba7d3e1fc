"""numba's cache of the kernels follows edits of any kernel file (sgphys/kernels/_cache.py).

numba alone keys a cached function by its own file: r-BP's prior kernel (rbp.py) inlines the
denoiser of priors.py, so editing priors.py would leave the cached r-BP kernel running the
old denoiser. Here a copy of the package is compiled, priors.py is edited, and a fresh
process must see the edit."""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sgphys
from sgphys.kernels import _cache

CALL = textwrap.dedent("""
    import numpy as np
    from sgphys.kernels import _cache, rbp
    from sgphys.priors import Ternary
    code, params = Ternary(1.0, 0.5).kernel_args()
    n = 3
    out = [np.empty(n) for _ in range(4)]
    rbp._nodes_prior(np.array([0.3, -0.2, 0.1]), np.ones(n), 2.0, np.zeros(n), np.zeros(n),
                     *out, code, params)
    print(repr(float(out[2][0])), _cache.INSTALLED)
""")


def _run(root, env):
    res = subprocess.run([sys.executable, "-c", CALL], cwd=root, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    value, installed = res.stdout.split()
    return float(value), installed == "True"


@pytest.mark.skipif(not _cache.INSTALLED, reason="numba without CACHE_LOCATOR_CLASSES")
def test_editing_a_called_kernel_file_recompiles_its_callers(tmp_path):
    pkg = os.path.dirname(sgphys.__file__)
    shutil.copytree(pkg, tmp_path / "sgphys", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
    env["PYTHONPATH"] = str(tmp_path)
    before, installed = _run(tmp_path, env)
    assert installed
    # the first call compiled and cached rbp._nodes_prior (with the denoiser inlined)
    assert any(f.startswith("rbp._nodes_prior") for f in
               os.listdir(tmp_path / "sgphys" / "kernels" / "__pycache__"))
    again, _ = _run(tmp_path, env)
    assert again == before
    # double the mirror denoiser's mean in priors.py only
    path = tmp_path / "sgphys" / "kernels" / "priors.py"
    src = path.read_text()
    old = "    mean = (a * diff if x >= 0.0 else -a * diff) / tot\n"
    assert src.count(old) == 1
    path.write_text(src.replace(old, old + "    mean = 2.0 * mean\n"))
    after, _ = _run(tmp_path, env)
    assert after == pytest.approx(2.0 * before, rel=1e-15) and before != 0.0
    # the expected value itself: the ternary denoiser at the node's cavity field
    A, B = 2.0, 2.0 * 0.3
    v = np.array([-1.0, 0.0, 1.0])
    w = np.array([0.25, 0.5, 0.25]) * np.exp(-A * v * v / 2 + B * v)
    assert before == pytest.approx(float(w @ v / w.sum()), rel=1e-13)
