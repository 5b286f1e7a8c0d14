"""PyTorch peer for `pnpm bench`: reads the workloads and settings as JSON on stdin, prints results as JSON.

Times each workload like the Node side does: warm-up runs, then the median of timed runs. Run with the
Debian python3 (/usr/bin/python3), whose torch links the system BLAS.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

cfg = json.load(sys.stdin)
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)


def runner(w):
    kind = w["kind"]
    if kind == "gemm":
        a, b = torch.rand(w["n"], w["n"]), torch.rand(w["n"], w["n"])
        # Transposed operands as strided views: torch hands them to BLAS with the transpose flag.
        opa = a.t() if w.get("transA") else a
        opb = b.t() if w.get("transB") else b
        return lambda: opa @ opb
    if kind == "bmm":
        a = torch.rand(w["batch"], w["m"], w["k"])
        if w["transB"]:
            b = torch.rand(w["batch"], w["n"], w["k"])
            return lambda: torch.bmm(a, b.transpose(1, 2))
        b = torch.rand(w["batch"], w["k"], w["n"])
        return lambda: torch.bmm(a, b)
    if kind == "softmax":
        x = torch.rand(w["rows"], w["cols"])
        return lambda: torch.softmax(x, dim=-1)
    if kind == "layerNorm":
        x, g, b = torch.rand(w["rows"], w["cols"]), torch.rand(w["cols"]), torch.rand(w["cols"])
        return lambda: F.layer_norm(x, (w["cols"],), g, b, 1e-5)
    if kind == "depthwiseConv2d":
        x = torch.rand(1, w["c"], w["h"], w["w"])
        f = torch.rand(w["c"], 1, w["k"], w["k"])
        return lambda: F.conv2d(x, f, padding=(w["k"] - 1) // 2, groups=w["c"])
    if kind == "mlpStep":
        model = torch.nn.Sequential(
            torch.nn.Linear(w["dIn"], w["dHidden"]), torch.nn.GELU(approximate="tanh"), torch.nn.Linear(w["dHidden"], w["dIn"])
        )
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        x, y = torch.rand(w["batch"], w["dIn"]), torch.rand(w["batch"], w["dIn"])

        def step():
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        return step
    return None


def loaded_blas():
    """The BLAS/LAPACK shared objects this process actually mapped (after the runs), resolved to real paths."""
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path).lower()
                if any(s in name for s in ("blas", "lapack", "mkl", "blis")):
                    found.add(os.path.realpath(path))
    except OSError:
        return ["unknown (no /proc/self/maps)"]
    return sorted(found)


results = {}
for w in cfg["workloads"]:
    fn = runner(w)
    if fn is None:
        continue
    for _ in range(cfg["warmup"]):
        fn()
    times = []
    budget = time.perf_counter() + cfg["budgetSeconds"]
    for _ in range(cfg["reps"]):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() > budget:
            break
    results[w["name"]] = {"medianMs": statistics.median(times), "reps": len(times)}

config = torch.__config__.show()
blas = [line.strip() for line in config.splitlines() if "BLAS" in line or "LAPACK" in line]
print(json.dumps({
    "version": torch.__version__,
    "threads": torch.get_num_threads(),
    "blas": blas,
    "loadedBlas": loaded_blas(),
    "results": results,
}))
