"""Generates the heed.v1 stubs (messages, type stubs, gRPC service) from
proto/heed/v1/inference.proto while the package is built, with protoc and
gRPC's Python plugin: the system's (Debian: protobuf-compiler,
protobuf-compiler-grpc) or grpcio-tools' where that is installed.

HEED_PROTO_DIR names the directory that holds heed/v1/inference.proto
(default: ../../proto, this repository's)."""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def protoc_command():
    protoc, plugin = shutil.which("protoc"), shutil.which("grpc_python_plugin")
    if protoc and plugin:
        return [protoc, f"--plugin=protoc-gen-grpc_python={plugin}"]
    try:
        import grpc_tools  # noqa: F401  (grpcio-tools: protoc and the plugin in one)
        return [sys.executable, "-m", "grpc_tools.protoc"]
    except ImportError:
        sys.exit("heed-client: building needs protoc and grpc_python_plugin "
                 "(apt install protobuf-compiler protobuf-compiler-grpc) or grpcio-tools")


class BuildWithStubs(build_py):
    def run(self):
        proto_dir = os.environ.get("HEED_PROTO_DIR", os.path.join(HERE, "..", "..", "proto"))
        source = os.path.join(proto_dir, "heed", "v1", "inference.proto")
        if not os.path.exists(source):
            sys.exit(f"heed-client: {source} not found (set HEED_PROTO_DIR)")
        out = os.path.join(self.build_lib)
        os.makedirs(os.path.join(out, "heed", "v1"), exist_ok=True)
        subprocess.run([*protoc_command(), f"-I{proto_dir}", f"--python_out={out}",
                        f"--pyi_out={out}", f"--grpc_python_out={out}", source], check=True)
        open(os.path.join(out, "heed", "v1", "__init__.py"), "w").close()
        super().run()


setup(cmdclass={"build_py": BuildWithStubs})
