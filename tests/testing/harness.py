"""What the Python integration tests share: pass/fail bookkeeping that ends
in the "N passed, N failed" line, and heed-server started on free ports.
Import it with sys.path.insert(0, <this directory>)."""
import re
import subprocess
import sys
import threading
import time


class Checks:
    """check(name, condition, detail) prints ok/FAIL; finish() prints the
    summary and exits 1 if anything failed."""

    def __init__(self):
        self.failures, self.passed = [], 0

    def __call__(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print("ok:", name)
        else:
            self.failures.append(name)
            print("FAIL:", name, str(detail)[:2000])

    def finish(self):
        print(f"{self.passed} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def start_server(binary, *flags, timeout=60):
    """heed-server with gRPC and metrics on free ports, plus `flags` (which
    may override them, or add --http_address). Returns (process, ports) once
    it serves; ports maps "grpc", "metrics" and "http" to the ports it
    reported. Its output keeps being drained, so that it never blocks."""
    process = subprocess.Popen(
        [binary, "--grpc_address=127.0.0.1:0", "--metrics_address=127.0.0.1:0", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ports, output = {}, []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        match = re.search(r" (grpc|metrics|http) listening on port (\d+)$", line)
        if match:
            ports[match.group(1)] = int(match.group(2))
        if line.rstrip().endswith(" info serving"):
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, ports
    process.kill()
    raise RuntimeError("heed-server did not start:\n" + "".join(output))


def stop(process):
    process.terminate()
    process.wait(timeout=30)
