"""A real SMTP server for the tests (aiosmtpd, from PyPI).

Listens on 127.0.0.1 on a free port, prints the port on its first line of
output, and stores every message it accepts as NNNNN.eml in the directory
given as its argument (the envelope's recipients in an X-Test-Rcpt-To header
line first). Runs until killed.
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, f"{self.count:05d}.eml")
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Test-Rcpt-To: " + ", ".join(envelope.rcpt_tos) + "\r\n").encode("ascii"))
            f.write(data)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


async def main():
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    store = Store(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(store, hostname="test-smtp"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
