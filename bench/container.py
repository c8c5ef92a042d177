"""Container start-up benchmark: zeroinit as an entrypoint against tini (Debian's `tini`).

    python bench/container.py [--runs 20]

Measures, for `ENTRYPOINT -- /bin/true` with no services:
  * wall time from exec to exit, plain and as PID 1 of a new PID namespace (unshare, as root),
    median of --runs [target <= 60 ms];
  * PSS of the init's own processes while `main` runs (sleep), from /proc/PID/smaps_rollup
    [target <= 15 MB] — for zeroinit: root, zygote and main's watcher; not `main` itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bytecode import ensure_bytecode  # noqa: E402
from bench.procfs import command_line, descendants, pss_kb  # noqa: E402

BIN = Path(sys.executable).parent
ZEROINIT = str(BIN / "zeroinit")


def timed(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def init_pss(argv: list[str]) -> int:
    """PSS (KB) of the init's processes while `main` (sleep 5) runs; main itself excluded."""
    proc = subprocess.Popen(argv + ["sleep", "5"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not any(command_line(p) == b"sleep\x005\x00" for p in [proc.pid, *descendants(proc.pid)]):
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("main never started")
    total = sum(pss_kb(p) for p in [proc.pid, *descendants(proc.pid)] if command_line(p) != b"sleep\x005\x00")
    proc.terminate()
    proc.wait()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_bytecode()
    tini = shutil.which("tini")
    if tini is None:
        print("tini is not installed (apt-get install tini); measuring zeroinit alone")
    empty = Path(tempfile.mkdtemp(prefix="zc-"))
    zeroinit = [ZEROINIT, "-q", "-d", str(empty), "-s", str(empty / "control"), "--"]
    rows = [("zeroinit", zeroinit)] + ([("tini", [tini, "--"])] if tini else [])
    namespaced = os.geteuid() == 0 and shutil.which("unshare") is not None
    print(f"container start-up, `-- /bin/true`, median of {args.runs} runs:")
    results = {}
    for name, argv in rows:
        plain = timed(argv + ["/bin/true"], args.runs)
        line = f"  {name:<9} {plain:6.1f} ms"
        if namespaced:
            ns = timed(["unshare", "--pid", "--fork", "--mount-proc"] + argv + ["/bin/true"],
                       args.runs)
            line += f"   as PID 1 (unshare): {ns:6.1f} ms"
        pss = init_pss(argv)
        line += f"   PSS while main runs: {pss / 1024:5.1f} MB"
        results[name] = (plain, pss)
        print(line)
    if namespaced:
        bare = timed(["unshare", "--pid", "--fork", "--mount-proc", "/bin/true"], args.runs)
        print(f"  (unshare with /bin/true alone: {bare:.1f} ms)")
    plain, pss = results["zeroinit"]
    print(f"targets: <= 60 ms ({plain:.0f} ms: {'met' if plain <= 60 else 'MISSED'}), "
          f"<= 15 MB PSS ({pss / 1024:.1f} MB: {'met' if pss <= 15 * 1024 else 'MISSED'})")
    shutil.rmtree(empty, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
