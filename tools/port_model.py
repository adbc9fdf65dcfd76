#!/usr/bin/python3
"""What heed's hot kernel loops would sustain on CPUs that are not at hand.

Disassembles the innermost loops of the fused attention and int8 product
kernels from a built binary and runs each through llvm-mca's model of other
CPUs (Skylake-SP, Ice Lake-SP, Haswell, Skylake client, EPYC Rome). The
model is of the core alone: every load hits L1, so the figures are ceilings
that the memory system may or may not let a kernel reach. They stand in for
measurements only where no such CPU is available; docs/benchmarks.md says
which figures are modelled.

For each loop it prints cycles per iteration and:
  - matrix micro-kernels (FMA loops): the fraction of the FMA units' peak;
  - softmax loops (exp2 with vscalefps or vroundps): cycles per score vector;
  - int8 products: multiply-adds per cycle, and their ratio to float32
    FMAs per cycle at the same vector width on that CPU.

llvm-mca 14 lets 512-bit ops use port 1, which Intel CPUs turn off for
vector work while 512-bit uops are in flight; for zmm loops on Intel models
the cycles are therefore at least (512-bit ALU uops) / 2, and the table says
which bound applied. Its Zen 3 model gives 256-bit FMAs one per cycle
instead of two, so Zen 3 is left out.

Usage: /usr/bin/python3 tools/port_model.py [--binary build/bench/heed-bench-kernels]
Needs binutils (objdump, nm) and llvm (llvm-mca-14), both Debian packages.
"""
import argparse
import re
import shutil
import subprocess
import sys

SKYLAKE_SP, ICE_LAKE_SP = "skylake-avx512", "icelake-server"
AVX2_CPUS = ["haswell", "skylake", "znver2"]

# (label, regex on the demangled symbol, level, llvm-mca CPUs it runs on there)
KERNELS = [
    ("attention f32", r"avx512::\(anonymous namespace\)::RowBlock<6, float>::Tile\(",
     "avx512", [SKYLAKE_SP, ICE_LAKE_SP]),
    ("attention f32", r"avx2::\(anonymous namespace\)::RowBlock<6>::Tile\(", "avx2",
     AVX2_CPUS),
    ("int8 product", r"avx512::int8_tile::Tile<.*PairSumsDot, 4, 4>\(", "avx512",
     [SKYLAKE_SP]),
    ("int8 product", r"avx512::int8_tile::Tile<.*VnniDot, 4, 4>\(", "avx512_vnni",
     [ICE_LAKE_SP]),
    ("int8 product", r"avx2::\(anonymous namespace\)::Tile<4>\(", "avx2", AVX2_CPUS),
]

# llvm-mca CPU name -> (what it stands for, FMA units)
CPUS = {
    SKYLAKE_SP: ("Skylake-SP", 2),
    ICE_LAKE_SP: ("Ice Lake-SP", 2),
    "haswell": ("Haswell/Broadwell", 2),
    "skylake": ("Skylake client", 2),
    "znver2": ("Zen 2 (EPYC Rome)", 2),
}
INTEL = {SKYLAKE_SP, ICE_LAKE_SP, "haswell", "skylake"}

ITERATIONS = 300


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True).stdout


def find_symbol(binary, pattern):
    """(start, end) of the one defined symbol whose demangled name matches."""
    hits = []
    for line in run(["nm", "-C", "--defined-only", "-S", binary]).splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and re.search(pattern, parts[3]):
            start, size = int(parts[0], 16), int(parts[1], 16)
            hits.append((start, start + size, parts[3]))
    if len(hits) != 1:
        names = "; ".join(h[2] for h in hits) or "none"
        sys.exit(f"port_model: {len(hits)} symbols match {pattern!r} ({names})")
    return hits[0][:2]


def disassemble(binary, start, end):
    """[(address, mnemonic, operands)] of [start, end), AT&T syntax."""
    out = run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
               f"--stop-address={end:#x}", binary])
    code = []
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\t(\S+)\s*(.*)", line)
        if m:
            operands = m.group(3).split("#")[0].split("<")[0].strip()
            code.append((int(m.group(1), 16), m.group(2), operands))
    return code


def innermost_loops(code):
    """Bodies of the loops that contain no other loop. Backward branches to the
    same target are one loop, up to the last of them (unrolled loops with
    early exits branch back from several places)."""
    ends = {}
    for address, mnemonic, operands in code:
        if mnemonic.startswith("j") and re.fullmatch(r"[0-9a-f]+", operands):
            target = int(operands, 16)
            if target < address:
                ends[target] = max(ends.get(target, 0), address)
    loops = sorted(ends.items())
    inner = [(t, e) for t, e in loops
             if not any((t2, e2) != (t, e) and t <= t2 and e2 <= e for t2, e2 in loops)]
    return [[c for c in code if t <= c[0] <= e] for t, e in inner]


def mca_text(body):
    """The loop body as llvm-mca input: branches dropped (a taken loop-back
    branch costs a port slot only), everything else kept."""
    lines = []
    for _, mnemonic, operands in body:
        if mnemonic.startswith("j") or mnemonic.startswith("nop") or mnemonic == "call":
            continue
        lines.append(f"{mnemonic} {operands}".strip())
    return "\n".join(lines) + "\n"


def shape(body):
    """The loop's instructions, without operands, in any order: the same
    micro-kernel inlined twice differs only in registers and addressing."""
    return tuple(sorted(m for _, m, _ in body))


def classify(body):
    names = [m for _, m, _ in body]
    fma = sum(1 for m in names if re.match(r"vf(n)?madd|vdpbf16ps", m))
    int8 = [(m, o) for _, m, o in body if m in ("vpmaddubsw", "vpdpbusd")]
    exp = sum(1 for m in names if m in ("vscalefps", "vroundps", "vrndscaleps"))
    zmm = any("zmm" in o for _, _, o in body)
    if int8:
        return "int8", len(int8), zmm
    if exp:
        return "softmax", sum(1 for m in names if m in ("vscalefps", "vcvtps2dq")), zmm
    if fma >= 12:
        return "matmul", fma, zmm
    return None, 0, zmm


def zmm_alu_uops(body):
    """512-bit instructions that need an ALU port (p0 or p5 on Intel): all
    but pure loads, stores and broadcasts from memory."""
    count = 0
    for _, mnemonic, operands in body:
        if "zmm" not in operands:
            continue
        moves = mnemonic.startswith(("vmov", "vbroadcast", "vpbroadcast"))
        if moves and "(" in operands:
            continue  # a load or a store
        count += 1
    return count


def mca_cycles(text, cpu):
    out = run(["llvm-mca-14", f"-mcpu={cpu}", f"-iterations={ITERATIONS}",
               "-resource-pressure=0", "-instruction-info=0"], stdin=text)
    total = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))
    return total / ITERATIONS


def model(binary):
    """One dict per (kernel, distinct innermost loop, CPU)."""
    rows = []
    for label, pattern, isa, cpus in KERNELS:
        start, end = find_symbol(binary, pattern)
        seen = set()
        for body in innermost_loops(disassemble(binary, start, end)):
            kind, count, zmm = classify(body)
            if kind is None or shape(body) in seen:
                continue
            seen.add(shape(body))
            if kind == "matmul" and count < (24 if zmm else 12):
                continue  # the head_dim remainder of a micro-kernel
            text = mca_text(body)
            width = 16 if zmm else 8
            for cpu in cpus:
                name, fma_units = CPUS[cpu]
                cycles = mca_cycles(text, cpu)
                bound = "llvm-mca"
                if zmm and cpu in INTEL and zmm_alu_uops(body) / 2 > cycles:
                    cycles, bound = zmm_alu_uops(body) / 2, "p0+p5"
                row = {"kernel": label, "level": isa, "kind": kind, "instructions": len(body),
                       "cpu": name, "cycles": cycles, "bound": bound}
                if kind == "matmul":
                    row["fma_fraction"] = count / (cycles * fma_units)
                    row["result"] = f"{count} FMAs: {row['fma_fraction']:.2f} of FMA peak"
                elif kind == "softmax":
                    row["result"] = f"{cycles / count:.1f} cycles per {width}-score exp2"
                else:
                    macs = count * width * 4 / cycles
                    row["int8_over_f32"] = macs / (fma_units * width)
                    row["result"] = (f"{macs:.0f} int8 MACs/cycle, {row['int8_over_f32']:.2f}x "
                                     f"f32's {fma_units * width}")
                rows.append(row)
    return rows


def missing_tools():
    return [t for t in ("nm", "objdump", "llvm-mca-14") if shutil.which(t) is None]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="build/bench/heed-bench-kernels")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        sys.exit(f"port_model: {', '.join(missing)} not found "
                 "(apt-get install binutils llvm-14)")
    print("| kernel | level | loop | CPU (llvm-mca model) | cycles/iteration | bound | result |")
    print("|---|---|---|---|---|---|---|")
    for r in model(args.binary):
        print(f"| {r['kernel']} | `{r['level']}` | {r['kind']} ({r['instructions']} instr.) "
              f"| {r['cpu']} | {r['cycles']:.1f} | {r['bound']} | {r['result']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
