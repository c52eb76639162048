#!/bin/sh
# The demo behind `make demo`.
set -e
here=$(cd "$(dirname "$0")" && pwd)
echo "==> two processes exchanging frames and a descriptor over libfsproto"
"$here/fsproto_demo"
