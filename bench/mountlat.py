#!/usr/bin/env python3
"""mountlat: start a mount command and time it until the mount serves.

    mountlat.py pidfile logfile mountpoint command [argument ...]

Starts the command in a session of its own (so a ^C at the terminal does
not kill a FUSE server before it is unmounted), writes its pid to pidfile,
and polls stat(mountpoint/.) until st_dev differs from the parent
directory's, that is until the new filesystem answers.  Prints the time
from starting the command to that stat in milliseconds.  The command may
stay in the foreground (a FUSE server with -f) or exit 0 once it has
mounted (fsctl); exiting non-zero, or no mount within the time limit, is a
failure (exit 1).  A stat that blocks while the server starts is part of
the latency, which is the point.
"""

import os
import subprocess
import sys
import time

LIMIT = 20.0


def main():
    if len(sys.argv) < 5:
        sys.stderr.write("usage: mountlat.py pidfile logfile mountpoint "
                         "command [argument ...]\n")
        return 2
    pidfile, logfile, mnt = sys.argv[1:4]
    cmd = sys.argv[4:]
    parent = os.stat(os.path.dirname(os.path.abspath(mnt))).st_dev
    with open(logfile, "ab") as log:
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            sys.stderr.write("mountlat: %s: %s\n" % (cmd[0], e.strerror))
            return 1
    with open(pidfile, "w") as f:
        f.write("%d\n" % proc.pid)
    while True:
        try:
            if os.stat(os.path.join(mnt, ".")).st_dev != parent:
                break
        except OSError:
            pass
        rc = proc.poll()
        if rc is not None and rc != 0:
            sys.stderr.write("mountlat: %s exited %d\n" % (cmd[0], rc))
            return 1
        if time.monotonic() - t0 > LIMIT:
            sys.stderr.write("mountlat: %s: no mount after %.0f s\n" %
                             (mnt, LIMIT))
            return 1
        time.sleep(0.0002)
    print("%.2f" % ((time.monotonic() - t0) * 1000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
