#!/usr/bin/python3
"""Reference RDP and epsilon values for dp_rdp_accountant_test.cc, computed independently of
fedra's series: A_alpha = E_{x~N(0,z^2)}[(1 - q + q exp((2x - 1) / (2 z^2)))^alpha] by
numerical integration in 30-digit arithmetic (mpmath), RDP = log(A_alpha) / (alpha - 1)
(Mironov, Talwar, Zhang 2019), and epsilon = min over dp_accounting's default orders of
rdp + log1p(-1/a) - log(delta a)/(a - 1) (0 where delta^2 + expm1(-rdp) > 0).

  /usr/bin/python3 tests/privacy/dp/rdp_reference.py   (needs python3-mpmath)
"""
import mpmath as mp

mp.mp.dps = 30
DEFAULT_ORDERS = [1 + x / 10 for x in range(1, 100)] + list(range(11, 64)) + [128, 256, 512, 1024]


def log_a(q, z, alpha):
    q, z, alpha = mp.mpf(q), mp.mpf(z), mp.mpf(alpha)
    s2 = z * z
    log_norm = mp.log(mp.sqrt(2 * mp.pi) * z)

    def log_f(x):
        ratio = 1 - q + q * mp.exp((2 * x - 1) / (2 * s2))
        return -x * x / (2 * s2) - log_norm + alpha * mp.log(ratio)

    # The integrand lives in [-12 z, alpha + 12 z] (its log-derivative is positive below 0 and
    # negative above alpha); it may have two modes. Integrate, piece by piece of width z/2,
    # only where it is within e^-80 of its maximum on a grid.
    step = z / 2
    grid = [-12 * z + k * step for k in range(int((alpha + 24 * z) / step) + 2)]
    logs = [log_f(x) for x in grid]
    top = max(logs)
    keep = [i for i, v in enumerate(logs) if v > top - 80]
    lo, hi = max(keep[0] - 1, 0), min(keep[-1] + 1, len(grid) - 1)
    pts = [-mp.inf] + grid[lo:hi + 1] + [mp.inf]
    total = mp.quad(lambda x: mp.exp(log_f(x) - top), pts)
    return top + mp.log(total)


def rdp(q, z, alpha):
    if q == 1:
        return mp.mpf(alpha) / (2 * mp.mpf(z) ** 2)
    return log_a(q, z, alpha) / (mp.mpf(alpha) - 1)


def epsilon(q, z, steps, delta, orders=DEFAULT_ORDERS):
    best = mp.inf
    for a in orders:
        r = steps * rdp(q, z, a)
        if delta**2 + mp.expm1(-r) > 0:
            e = mp.mpf(0)
        elif a > 1.01:
            e = r + mp.log1p(-mp.mpf(1) / a) - mp.log(delta * mp.mpf(a)) / (mp.mpf(a) - 1)
        else:
            e = mp.inf
        best = min(best, e)
    return max(mp.mpf(0), best)


if __name__ == "__main__":
    print("// per order: {q, z, alpha, rdp}")
    for q, z, a in [(0.01, 1.0, 1.5), (0.01, 1.0, 2), (0.05, 1.1, 3.7), (0.1, 0.8, 11),
                    (0.5, 2.0, 1.1), (0.001, 0.5, 32), (0.01, 0.5, 2.3), (0.2, 3.0, 128)]:
        print(f"    {{{q}, {z}, {a}, {mp.nstr(rdp(q, z, a), 17)}}},")
    print("// epsilon at delta 1e-5, default orders: {z, q, steps, epsilon}")
    for z, q, t in [(0.5, 0.01, 100), (1.12, 256 / 60000, 14063), (1.0, 0.01, 1000),
                    (0.8, 0.1, 100), (2.0, 0.1, 500), (1.1, 0.05, 2000), (4.0, 1.0, 10),
                    (0.7, 0.001, 10000)]:
        print(f"    {{{z}, {q!r}, {t}, {mp.nstr(epsilon(q, z, t, mp.mpf('1e-5')), 17)}}},")
