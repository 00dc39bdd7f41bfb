"""The native peer of the `native` bench suite (bench/native.mjs): the exact NGD step of natgrad's
ngd() on the paper's net, written in PyTorch on the CPU.

f(x) = s * sum_r a_r relu(w_r . x), s = 1/sqrt(m), a_r = +-1 fixed, squared error
L = 1/2 |u - y|^2, fixed damping lam, lr eta, full batch. One step, as natgrad takes it:
  Z = X W^T (reused from the previous step's trial pass when there is one), u, r = u - y;
  G = (X X^T) o (s^2 M M^T), M = [Z > 0] as int8 (torch._int_mm, exact counts; float32 where
  int8 products are missing), solve (G + lam I) x = r by Cholesky,
  W <- W - eta * B^T diag(x) X with B = s * a o M, then the divergence guard's trial pass
  Z' = X W^T, L' (kept for the next step; a step whose L' > 1.5 L is undone and retried with
  damping x 10, as natgrad's default guard does).
Every n x m buffer is preallocated once per run; one thread by default (--threads).

Input: one JSON argument {dir, n, d, m, threads, steps, damping, lr, target, runs}; dir holds
X.f64 (n x d), Y.f64 (n), W.f64 (m x d), a.f64 (m), little-endian float64 written by the parent.
Output: one JSON line on stdout: {torch, threads, runs: [{stepTimes, losses, toTarget, ...}]}.
Times are seconds from time.perf_counter.
"""
import json
import sys
import time

import numpy as np
import torch

cfg = json.loads(sys.argv[1])
torch.set_num_threads(int(cfg.get("threads", 1)))
n, d, m = cfg["n"], cfg["d"], cfg["m"]
lam, eta = cfg["damping"], cfg["lr"]
f64 = torch.float64


def load(name, shape):
    return torch.from_numpy(np.fromfile(f"{cfg['dir']}/{name}", dtype="<f8").reshape(shape).copy())


X, Y, W0, a0 = load("X.f64", (n, d)), load("Y.f64", (n,)), load("W.f64", (m, d)), load("a.f64", (m,))
s = 1.0 / np.sqrt(m)


def int8_gram_works():
    try:
        t = torch.ones(32, 64, dtype=torch.int8)
        return bool((torch._int_mm(t, t.t()) == 64).all())
    except Exception:  # noqa: BLE001 - any failure means: use the float32 path
        return False


INT8 = int8_gram_works()


def run(steps, target_ratio):
    """One fresh run: buffers made, then `steps` steps; time to target counted from the buffers' creation."""
    t0 = time.perf_counter()
    W = W0.clone()
    a = a0.clone()
    sa = s * a
    Z = torch.empty(n, m, dtype=f64)
    Zt = torch.empty(n, m, dtype=f64)
    H = torch.empty(n, m, dtype=f64)
    Mb = torch.empty(n, m, dtype=torch.bool)
    Mf = None if INT8 else torch.empty(n, m, dtype=torch.float32)
    B = torch.empty(n, m, dtype=f64)
    K = torch.empty(n, n, dtype=f64)
    G = torch.empty(n, n, dtype=f64)
    xX = torch.empty(n, d, dtype=f64)
    dW = torch.empty(m, d, dtype=f64)
    Wb = torch.empty(m, d, dtype=f64)
    u = torch.empty(n, dtype=f64)
    eye = torch.eye(n, dtype=f64)

    def loss_of(Zs):
        torch.clamp(Zs, min=0, out=H)
        torch.mv(H, sa, out=u)
        r = u - Y
        return r, 0.5 * float(r.dot(r))

    held = False
    loss0 = None
    times, losses, retries = [], [], 0
    to_target = None
    steps_to_target = None
    for step in range(steps):
        ts = time.perf_counter()
        if not held:
            torch.mm(X, W.t(), out=Z)
        r, loss = loss_of(Z)
        if loss0 is None:
            loss0 = loss
        # Curvature: the mask Gram (exact counts) times the input Gram.
        torch.gt(Z, 0, out=Mb)
        if INT8:
            M8 = Mb.view(torch.int8)
            C = torch._int_mm(M8, M8.t())
        else:
            Mf.copy_(Mb)
            C = torch.mm(Mf, Mf.t())
        torch.mm(X, X.t(), out=K)
        torch.mul(K, C, out=G)
        G.mul_(s * s)
        # B = s * a o M: the backward rows, for the step's J^T x.
        torch.mul(Mb, sa, out=B)
        Wb.copy_(W)
        damping = lam
        for attempt in range(8):
            L = torch.linalg.cholesky(G + damping * eye)
            x = torch.cholesky_solve(r.unsqueeze(1), L).squeeze(1)
            torch.mul(X, x.unsqueeze(1), out=xX)
            torch.mm(B.t(), xX, out=dW)
            W.add_(dW, alpha=-eta)
            torch.mm(X, W.t(), out=Zt)
            _, after = loss_of(Zt)
            if after <= 1.5 * loss and np.isfinite(after):
                break
            W.copy_(Wb)
            damping *= 10
            retries += 1
        Z, Zt = Zt, Z
        held = True
        te = time.perf_counter()
        times.append(te - ts)
        losses.append(after)
        if to_target is None and after <= target_ratio * loss0:
            to_target = te - t0
            steps_to_target = step + 1
    return {"stepTimes": times, "losses": losses, "loss0": loss0, "toTarget": to_target,
            "stepsToTarget": steps_to_target, "retries": retries}


runs = [run(int(cfg["steps"]), float(cfg["target"])) for _ in range(int(cfg.get("runs", 1)))]
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "int8": INT8,
                  "cpu": torch.backends.cpu.get_cpu_capability(), "runs": runs}))
