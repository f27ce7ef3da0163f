"""Bounded sweep work: ``siting sweep --workers 1000`` on a 10,000-variant grid (100 satellite
prices x 100 carbon prices on a 15-candidate, 10-region default): seconds to the first row, the
processes the sweep runs, then Ctrl-C (SIGINT to the whole process group, as a terminal sends it)
and the seconds until the command has exited. The load average is printed before and after.

    python bench/sweep_bounded.py [OUT]      # OUT default: /tmp/siting-bench-bounded
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/siting-bench-bounded")
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.parent / f".{out.name}.sweep-cache", ignore_errors=True)
    prices = ",".join(f"{0.05 + 0.01 * i:.2f}" for i in range(100))
    carbon = ",".join(str(2 * i) for i in range(100))
    cmd = [str(Path(sys.executable).parent / "siting"), "sweep",
           "--vary", f"network.sat_price_musd_per_gbps_year={prices}",
           "--vary", f"energy.carbon_price_usd_per_tco2={carbon}",
           "--set", "candidates.max_count=15", "--set", "demand.max_regions=10",
           "--workers", "1000", "--yes", "--out", str(out), "--time-limit", "30"]
    print("load before:", uptime(), flush=True)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
    fcntl.fcntl(p.stderr, fcntl.F_SETFL, os.O_NONBLOCK)
    text, first = b"", None
    while time.monotonic() - t0 < 300 and p.poll() is None and first is None:
        text += p.stderr.read() or b""
        done = re.findall(rb"\| *(\d+)/10000", text)
        if done and int(done[-1]) >= 1:
            first = time.monotonic() - t0
        time.sleep(0.05)
    procs = subprocess.run(["pgrep", "-s", str(p.pid)], capture_output=True, text=True).stdout.split()
    print(f"first row after {first:.1f} s" if first else "no row within 300 s", flush=True)
    print(f"processes of the sweep: {len(procs)} (the command, its workers, the resource tracker)")
    time.sleep(3)
    t1 = time.monotonic()
    os.killpg(p.pid, signal.SIGINT)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    print(f"Ctrl-C -> exit {p.returncode} after {time.monotonic() - t1:.2f} s")
    text += p.stderr.read() or b""
    lines = text.decode(errors="replace").replace("\r", "\n").splitlines()
    print("\n".join(line for line in lines if line.startswith(("note:", "error:", "warning:"))))
    print(f"{out}: {len(os.listdir(out)) if out.is_dir() else 0} files")
    print("load after:", uptime())


if __name__ == "__main__":
    main()
