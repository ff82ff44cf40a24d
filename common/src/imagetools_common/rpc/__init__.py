"""The NATS RPC layer: connections, typed services and clients, discovery."""

from imagetools_common.rpc.client import RpcClient
from imagetools_common.rpc.connection import PayloadLimitTooSmall, check_max_payload, connect, connection
from imagetools_common.rpc.discovery import Instance, ping_all
from imagetools_common.rpc.headers import REQUEST_ID_HEADER, accept_request_id, new_request_id
from imagetools_common.rpc.service import RpcService

__all__ = [
    "REQUEST_ID_HEADER",
    "Instance",
    "PayloadLimitTooSmall",
    "RpcClient",
    "RpcService",
    "accept_request_id",
    "check_max_payload",
    "connect",
    "connection",
    "new_request_id",
    "ping_all",
]
