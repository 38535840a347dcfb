"""A TCP relay that adds a fixed one-way delay in each direction (round-trip emulation where the
kernel has no ``sch_netem``). Every chunk is forwarded ``delay`` after it arrived, in order; the
first chunk from the client is held one extra round trip for the TCP handshake that the
relay's local accept did not pay. Bounded: stops after ``--max-connections`` or ``--max-seconds``.

    python -m bench.delayrelay LISTEN_HOST:PORT TARGET_HOST:PORT --one-way-ms 25
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys


async def _forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, first_extra: float
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def pump_in() -> None:
        extra = first_extra
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay + extra, data))
            extra = 0.0
        queue.put_nowait((loop.time() + delay, b""))

    async def pump_out() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    with contextlib.suppress(ConnectionError, OSError):
        await asyncio.gather(pump_in(), pump_out())


async def _serve(
    listen: tuple[str, int], target: tuple[str, int], delay: float, args: argparse.Namespace
) -> None:
    remaining = args.max_connections
    done = asyncio.Event()

    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining <= 0:
            done.set()
        s_reader, s_writer = await asyncio.open_connection(*target)
        try:
            await asyncio.gather(
                _forward(c_reader, s_writer, delay, 2 * delay),
                _forward(s_reader, c_writer, delay, 0.0),
            )
        finally:
            for w in (c_writer, s_writer):
                w.close()

    server = await asyncio.start_server(handle, *listen)
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=args.max_seconds)
    await asyncio.sleep(2)  # let the last connection finish
    server.close()


def _addr(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.delayrelay")
    parser.add_argument("listen", type=_addr)
    parser.add_argument("target", type=_addr)
    parser.add_argument("--one-way-ms", type=float, required=True)
    parser.add_argument("--max-connections", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.listen, args.target, args.one_way_ms / 1000, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
