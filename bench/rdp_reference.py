"""Reference ε values of the RDP accountant for DP-SGD, from Opacus and Google's
dp-accounting, written to tests/fixtures/privacy/rdp_reference.json. PrivacyTests
checks the library's Swift accountant against them (0.1% relative for σ ≥ 1, 1% below).

    python3 bench/rdp_reference.py

Each row: sampling rate q, noise multiplier σ, steps, δ, and ε from each library with
its own default orders (Opacus: 1.1..10.9, 12..63; dp-accounting: 1.1..10.9, 11..63,
128, 256, 512, 1024). Both convert RDP to (ε, δ) with the Balle et al. 2020 bound.
"""
import json
import math
import os
import warnings

warnings.filterwarnings("ignore")
import dp_accounting  # noqa: E402
from dp_accounting.rdp import rdp_privacy_accountant as rdp_lib  # noqa: E402
from opacus.accountants import RDPAccountant  # noqa: E402


def opacus_epsilon(q, sigma, steps, delta):
    acc = RDPAccountant()
    acc.history = [(sigma, q, steps)]
    return acc.get_epsilon(delta=delta)


def dp_accounting_epsilon(q, sigma, steps, delta):
    acc = rdp_lib.RdpAccountant()
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps)
    acc.compose(event)
    return acc.get_epsilon(delta)


def grid():
    n, batch = 29_794, 64          # the tweets' training set and the default batch
    q = batch / n
    per_epoch = math.ceil(n / batch)
    for sigma in (0.6, 1.0, 2.0):
        for epochs in (1, 2, 5, 10, 20, 50):
            yield q, sigma, epochs * per_epoch, 1e-5
    # Figures quoted in issue 13 and Opacus's own unit test.
    yield 0.01, 1.1, 10_000, 1e-5
    yield 256 / 60_000, 1.1, 14_062, 1e-5
    yield 0.04, 1.5, 2_250, 1e-5
    # Other rates and δ.
    for q, sigma, steps, delta in [(0.001, 0.8, 5_000, 1e-6), (0.1, 4.0, 1_000, 1e-5), (0.02, 0.7, 500, 1e-3),
                                   (0.005, 1.3, 20_000, 1e-7), (1.0, 5.0, 10, 1e-5)]:
        yield q, sigma, steps, delta


def main():
    rows = []
    for q, sigma, steps, delta in grid():
        rows.append({"q": q, "sigma": sigma, "steps": steps, "delta": delta,
                     "opacus": opacus_epsilon(q, sigma, steps, delta),
                     "dp_accounting": dp_accounting_epsilon(q, sigma, steps, delta)})
        print(rows[-1])
    import opacus
    out = {"opacus_version": opacus.__version__,
           "dp_accounting_version": getattr(dp_accounting, "__version__", "unknown"),
           "rows": rows}
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "privacy", "rdp_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
