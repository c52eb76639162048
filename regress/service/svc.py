#!/usr/bin/env python3
"""Play the service manager for the tests, since systemd is not PID 1.

svc.py activate [--bad-pid] [--fds N] [--dgram] [--nolisten] SOCKET CMD...
    Bind and listen on the unix socket SOCKET, put it on descriptor 3,
    set LISTEN_PID to this process (which then becomes CMD by exec) and
    LISTEN_FDS, and exec CMD.  The options break one rule each.

svc.py notify SOCKET OUTFILE
    Bind a datagram socket at SOCKET and append every message received
    to OUTFILE, one per line with its newlines shown as '|', until
    killed.  SOCKET starting with '@' is in the abstract namespace.
"""

import os
import socket
import sys


def activate(args):
    bad_pid = False
    nfds = 1
    kind = socket.SOCK_STREAM
    listen = True
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--bad-pid":
            bad_pid = True
        elif opt == "--fds":
            nfds = int(args.pop(0))
        elif opt == "--dgram":
            kind = socket.SOCK_DGRAM
        elif opt == "--nolisten":
            listen = False
        else:
            sys.exit("svc.py: unknown option " + opt)
    path, cmd = args[0], args[1:]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, kind)
    s.bind(path)
    os.chmod(path, 0o666)
    if listen and kind == socket.SOCK_STREAM:
        s.listen(16)
    fd = s.detach()
    if fd != 3:
        os.dup2(fd, 3, inheritable=True)
        os.close(fd)
    os.set_inheritable(3, True)
    for extra in range(4, 3 + nfds):
        os.dup2(3, extra, inheritable=True)
    os.environ["LISTEN_PID"] = str(os.getpid() + (1 if bad_pid else 0))
    os.environ["LISTEN_FDS"] = str(nfds)
    os.execvp(cmd[0], cmd)


def notify(args):
    path, out = args
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if path.startswith("@"):
        s.bind("\0" + path[1:])
    else:
        if os.path.exists(path):
            os.unlink(path)
        s.bind(path)
        os.chmod(path, 0o666)
    with open(out, "a", buffering=1) as f:
        f.write("listening\n")
        while True:
            msg = s.recv(4096).decode("utf-8", "replace")
            f.write(msg.replace("\n", "|") + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    {"activate": activate, "notify": notify}[sys.argv[1]](sys.argv[2:])
