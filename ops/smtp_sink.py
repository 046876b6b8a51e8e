#!/usr/bin/python3
"""An SMTP server on loopback that keeps every message it accepts as a file.

Run by ops/smtp-server (development and the notification tests); it uses
Debian's python3-aiosmtpd, hence /usr/bin/python3. Each message is written
to DIR/<time>-<pid>-<n>.eml, first under a dot-name and then renamed, so a
reader never sees half a message; the envelope comes first as
X-Envelope-From / X-Envelope-To lines, then the message's bytes as received.

  --user U --password P   require AUTH (PLAIN or LOGIN) with these
  --reject DOMAIN         answer 550 to recipients @DOMAIN (a permanent refusal)
  --tls-cert F --tls-key K
                          require STARTTLS with this certificate (PEM) before
                          MAIL; with --implicit-tls, TLS from the first byte
                          instead (smtps)
"""

import argparse
import itertools
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveToDirectory:
    def __init__(self, directory, reject_domain):
        self.directory = directory
        self.reject_domain = reject_domain.lower() if reject_domain else None
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_domain and address.lower().endswith("@" + self.reject_domain):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            name = "%d-%d-%d.eml" % (time.time_ns(), os.getpid(), next(self.counter))
        temporary = os.path.join(self.directory, "." + name)
        with open(temporary, "wb") as f:
            f.write(("X-Envelope-From: %s\r\n" % envelope.mail_from).encode())
            for rcpt in envelope.rcpt_tos:
                f.write(("X-Envelope-To: %s\r\n" % rcpt).encode())
            f.write(envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temporary, os.path.join(self.directory, name))
        return "250 2.0.0 OK kept as " + name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--reject")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or (args.implicit_tls and not args.tls_cert):
        parser.error("--tls-cert and --tls-key go together, and --implicit-tls needs them")
    os.makedirs(args.dir, exist_ok=True)

    options = {}
    if args.user:
        def authenticate(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login.decode() == args.user
                  and data.password.decode() == args.password)
            return AuthResult(success=ok)
        options = {"authenticator": authenticate, "auth_required": True,
                   "auth_require_tls": bool(args.tls_cert)}

    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.implicit_tls:
            options["ssl_context"] = context
        else:
            options.update({"tls_context": context, "require_starttls": True})

    controller = Controller(SaveToDirectory(args.dir, args.reject), hostname="127.0.0.1",
                            port=args.port, **options)
    controller.start()
    print("smtp sink on 127.0.0.1:%d, messages in %s" % (args.port, args.dir), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
