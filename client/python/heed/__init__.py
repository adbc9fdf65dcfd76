"""heed: a Python client for heed-server (transformer inference on CPUs).

    import heed
    with heed.Client("127.0.0.1:50051") as client:
        print(client.translate("A dog runs.").text)
"""
# In the source tree the generated stubs live under build/client/python/heed:
# with that on PYTHONPATH, the package spans both directories.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from heed._client import AsyncClient, Client
from heed._errors import HeedError

__all__ = ["AsyncClient", "Client", "HeedError"]
__version__ = "0.2.0"
