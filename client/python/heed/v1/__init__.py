# The generated heed.v1 stubs (inference_pb2, inference_pb2_grpc) are written
# here when the package is built (setup.py). In the source tree, CMake writes
# them to build/client/python/heed/v1 instead: with that directory on
# PYTHONPATH, this package spans both.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
