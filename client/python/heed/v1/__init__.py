# The generated heed.v1 stubs (inference_pb2, inference_pb2_grpc) are written
# here when the package is built (setup.py).
