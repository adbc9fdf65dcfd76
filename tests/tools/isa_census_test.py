#!/usr/bin/python3
"""Every instruction in heed-server above baseline x86-64 sits where only the
right instruction-set level can reach it. Checked on the binary, so it covers
code that no test runs and CPUs that no session has:
  - VEX (AVX, AVX2, FMA) and EVEX (AVX-512) instructions appear only in
    heed::kernels::avx2 and heed::kernels::avx512, which the kernel table
    picks by level (KernelTableTest); EVEX only in heed::kernels::avx512;
  - AVX512_BF16 instructions only in functions for bf16 data, which the table
    installs at avx512_bf16 only;
  - VNNI instructions only in the functions named Vnni, installed from
    avx512_vnni up.
A standard-library or Abseil function compiled inside an AVX-512 translation
unit and kept by the linker for every caller (the hazard the target headers'
include order guards against) breaks the first rule: it would crash with
SIGILL on a CPU without AVX-512, here a Skylake-SP without BF16 and VNNI, an
AVX2-only EPYC or an older CPU. qemu (scripts/test-emulated-cpu.sh) catches
only the code that tests run, and cannot emulate AVX-512 at all.
Usage (ctest runs it): isa_census_test.py BINARY
"""
import collections
import re
import subprocess
import sys

# Legacy prefixes that may precede a VEX (c4, c5) or EVEX (62) prefix byte.
LEGACY_PREFIXES = {"26", "2e", "36", "3e", "64", "65", "66", "67", "f2", "f3"}
BF16 = re.compile(r"\b(vdpbf16ps|vcvtne2ps2bf16|vcvtneps2bf16)\b")
VNNI = re.compile(r"\b(vpdpbusds?|vpdpwssds?)\b")


def census(binary):
    """Function name -> Counter of vex, evex, bf16 and vnni instructions."""
    out = subprocess.run(["objdump", "-d", "-C", "-w", binary], capture_output=True,
                         text=True, check=True).stdout
    counts = collections.defaultdict(collections.Counter)
    function = None
    for line in out.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            function = header.group(1)
            continue
        parts = line.split("\t")
        if function is None or len(parts) < 3:
            continue
        raw = [b for b in parts[1].split() if b not in LEGACY_PREFIXES]
        if raw and raw[0] == "62":
            counts[function]["evex"] += 1
        elif raw and raw[0] in ("c4", "c5"):
            counts[function]["vex"] += 1
        if BF16.search(parts[2]):
            counts[function]["bf16"] += 1
        if VNNI.search(parts[2]):
            counts[function]["vnni"] += 1
    return counts


def main():
    counts = census(sys.argv[1])
    failures = []
    levels = collections.Counter()
    for function, c in sorted(counts.items()):
        short = function[:160]
        avx512 = "heed::kernels::avx512::" in function
        avx2 = "heed::kernels::avx2::" in function
        if (c["vex"] or c["evex"]) and not (avx512 or avx2):
            failures.append(f"AVX/AVX-512 outside the kernel namespaces: {short}")
        if c["evex"] and not avx512:
            failures.append(f"AVX-512 outside heed::kernels::avx512: {short}")
        if c["bf16"] and "bf16" not in function.lower():
            failures.append(f"AVX512_BF16 in a function not for bf16: {short}")
        if c["vnni"] and "vnni" not in function.lower():
            failures.append(f"VNNI in a function not named for it: {short}")
        if c["evex"]:
            levels["avx512"] += 1
        elif c["vex"]:
            levels["avx2"] += 1
        if c["bf16"]:
            levels["avx512_bf16"] += 1
        if c["vnni"]:
            levels["avx512_vnni"] += 1
    print("functions with each level's instructions:", dict(levels))
    # The census must have seen the kernels, or it proved nothing.
    for level in ("avx2", "avx512", "avx512_vnni", "avx512_bf16"):
        if levels[level] == 0:
            failures.append(f"no function with {level} instructions found: "
                            "objdump's output was not understood")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
