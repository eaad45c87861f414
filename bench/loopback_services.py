"""Loopback services for the probe benchmarks: healthy ones answer a JSON health check at once
(keep-alive), hung ones read the request and never answer."""

from __future__ import annotations

import asyncio
import time

HEALTH_BODY = b'{"status":"ok","version":"bench"}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(HEALTH_BODY), HEALTH_BODY)


async def start(healthy: int, hung: int, arrivals: dict[int, list[float]] | None = None) -> tuple[list[asyncio.Server], dict[str, list[int]]]:
    """Starts the services; `arrivals`, if given, gets each healthy check's time under its port."""

    async def healthy_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if arrivals is not None:
                    arrivals.setdefault(port, []).append(time.time())
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            return  # the client hung up or the server is stopping: nothing to answer
        finally:
            writer.close()

    async def hung_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # read the request and whatever follows; never answer
        except ConnectionError:
            return  # the client hung up or the server is stopping: nothing to answer
        finally:
            writer.close()

    servers = [await asyncio.start_server(healthy_service, "127.0.0.1", 0) for _ in range(healthy)]
    servers += [await asyncio.start_server(hung_service, "127.0.0.1", 0) for _ in range(hung)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    return servers, {"healthy": ports[:healthy], "hung": ports[healthy:]}
