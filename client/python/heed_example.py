#!/usr/bin/python3
"""An example heed client in Python on Debian's python3-grpcio.

The stubs are generated from proto/ at build time (build/client/python); run
  PYTHONPATH=build/client/python /usr/bin/python3 client/python/heed_example.py \
      --address 127.0.0.1:50051 translate "A dog runs."
Commands: health, models, translate TEXT, summarize TEXT, sentiment TEXT...
"""
import argparse
import sys

import grpc

# grpc.health.v1's stubs are generated as top-level modules: a "grpc" package
# of ours would shadow grpcio's.
import health_pb2
import health_pb2_grpc
from heed.v1 import inference_pb2, inference_pb2_grpc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline in seconds")
    parser.add_argument("--max-tokens", type=int, default=0)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("command", choices=["health", "models", "translate", "summarize", "sentiment"])
    parser.add_argument("texts", nargs="*")
    args = parser.parse_args(argv)

    with grpc.insecure_channel(args.address) as channel:
        try:
            if args.command == "health":
                stub = health_pb2_grpc.HealthStub(channel)
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=args.timeout)
                print(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
                return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 3
            stub = inference_pb2_grpc.InferenceStub(channel)
            if args.command == "models":
                for m in stub.ListModels(inference_pb2.ListModelsRequest(), timeout=args.timeout).models:
                    print(m.name, inference_pb2.Task.Name(m.task), m.architecture,
                          "default" if m.is_default else "")
                return 0
            if not args.texts:
                parser.error("give at least one text")
            if args.command == "sentiment":
                reply = stub.ClassifySentiment(
                    inference_pb2.ClassifySentimentRequest(texts=args.texts), timeout=args.timeout)
                for text, result in zip(args.texts, reply.results):
                    print(f"{result.label}\t{result.score:.3f}\t{text}")
                return 0
            options = inference_pb2.GenerationOptions()
            if args.max_tokens:
                options.max_output_tokens = args.max_tokens
            for text in args.texts:
                if args.command == "translate":
                    request = inference_pb2.TranslateRequest(text=text, options=options)
                    unary, stream = stub.Translate, stub.TranslateStream
                else:
                    request = inference_pb2.SummarizeRequest(text=text, options=options)
                    unary, stream = stub.Summarize, stub.SummarizeStream
                if args.stream:
                    for message in stream(request, timeout=args.timeout):
                        if message.HasField("delta"):
                            print(message.delta.text, end="", flush=True)
                    print()
                else:
                    print(unary(request, timeout=args.timeout).text)
            return 0
        except grpc.RpcError as error:
            print(f"heed: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
