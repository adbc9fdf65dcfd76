#!/usr/bin/python3
"""The hand-written kernels' inner loops, as built, stay bound by their
arithmetic on the CPUs modelled by tools/port_model.py (llvm-mca): the
attention's matrix micro-kernels at >= 0.9 of the FMA units' peak on every
modelled CPU (a spill, a stray shuffle or a lost unroll shows as a drop),
and every kernel's loops are found. This checks the compiled code against
the CPUs that no session may have, Skylake-SP among them; it measures
nothing. Skipped (77) where llvm-mca-14 is missing.
Usage (ctest runs it): port_model_test.py KERNEL_BENCH_BINARY SOURCE_DIR
"""
import os
import sys

binary, source = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(source, "tools"))
import port_model  # noqa: E402

missing = port_model.missing_tools()
if missing:
    print("SKIP: not installed:", ", ".join(missing))
    sys.exit(77)

rows = port_model.model(binary)
failures = []
for label, _, level, cpus in port_model.KERNELS:
    for cpu in cpus:
        name = port_model.CPUS[cpu][0]
        found = [r for r in rows
                 if (r["kernel"], r["level"], r["cpu"]) == (label, level, name)]
        kinds = {r["kind"] for r in found}
        want = {"matmul", "softmax"} if label.startswith("attention") else {"int8"}
        if kinds != want:
            failures.append(f"{label} {level} on {name}: loops found {sorted(kinds)}, "
                            f"want {sorted(want)}")
for r in rows:
    print(f"{r['kernel']:14} {r['level']:12} {r['kind']:8} {r['cpu']:18} "
          f"{r['cycles']:5.1f} cycles  {r['result']}")
    if r["kind"] == "matmul" and r["fma_fraction"] < 0.9:
        failures.append(f"{r['kernel']} {r['level']} on {r['cpu']}: FMA loop at "
                        f"{r['fma_fraction']:.2f} of peak")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
