#!/usr/bin/env python3
"""Resident memory and CPU of a set of processes, as the host pays for them.

usage: footprint.py SECONDS PID...

Resident pages are read from /proc/PID/pagemap (root sees the page frames), so pages two
processes share -- the Swift runtime, libpq, libcurl -- are counted once in "together",
which is what the host spends on them. CPU is user+system time over SECONDS.
"""
import sys, os, struct, time
PAGE = os.sysconf("SC_PAGE_SIZE")
def pfns(pid):
    out = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pm:
        for line in maps:
            start, end = [int(x, 16) for x in line.split()[0].split("-")]
            if start >= 0xffffffffff600000: continue
            pm.seek(start // PAGE * 8)
            data = pm.read((end - start) // PAGE * 8)
            for i in range(0, len(data), 8):
                e = struct.unpack_from("<Q", data, i)[0]
                if e >> 63 & 1: out.add(e & ((1 << 55) - 1))
    return out
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
pids = [int(p) for p in sys.argv[2:]]
window = float(sys.argv[1])
sets = {p: pfns(p) for p in pids}
for p in pids: print(f"pid {p}: resident {len(sets[p]) * PAGE / 2**20:.1f} MiB")
union = set().union(*sets.values())
print(f"together (pages counted once): {len(union) * PAGE / 2**20:.1f} MiB")
c0 = {p: cpu(p) for p in pids}; t0 = time.time(); time.sleep(window); t1 = time.time()
hz = os.sysconf("SC_CLK_TCK")
for p in pids: print(f"pid {p}: {100 * (cpu(p) - c0[p]) / hz / (t1 - t0):.2f}% of a core")
print(f"together: {100 * sum(cpu(p) - c0[p] for p in pids) / hz / (t1 - t0):.2f}% of a core over {t1 - t0:.0f} s")
