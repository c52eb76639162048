#!/bin/sh
# nsrun.sh SCRATCH [DIR | PATH=TARGET]... -- COMMAND [ARG...]
#
# Runs COMMAND, as root, in a mount namespace of its own whose mounts
# are all private, so that nothing mounted there is seen outside, even
# where / is shared.  Each DIR is overlaid with an empty layer kept in a
# tmpfs on SCRATCH (an empty directory): what is written there stays in
# the namespace and the files underneath are never touched.  Each PATH
# becomes a symbolic link to TARGET, in such a layer (the nearest
# existing directory above PATH is overlaid when no DIR covers it).
# The tests use it to put their own build, or a fake installed copy,
# where an installed fsmonitor lives, without touching the real one.

set -eu

if [ "${NSRUN_PRIVATE:-}" != yes ]; then
	NSRUN_PRIVATE=yes exec unshare -m --propagation private -- \
	    sh "$0" "$@"
fi
unset NSRUN_PRIVATE

die()
{
	echo "nsrun.sh: $*" >&2
	exit 1
}

usage="usage: nsrun.sh SCRATCH [DIR | PATH=TARGET]... -- COMMAND [ARG...]"
[ $# -ge 3 ] || die "$usage"
case " $* " in
*" -- "?*) ;;
*) die "$usage" ;;
esac
scratch=$1
shift
mount -t tmpfs -o mode=700 nsrun "$scratch" || die "tmpfs on $scratch"
layers=""
n=0

# covered DIR: DIR is, or is under, a directory overlaid already.
covered()
{
	for l in $layers; do
		case "$1/" in
		"$l"/*) return 0 ;;
		esac
	done
	return 1
}

overlay()
{
	real=$(readlink -f "$1") || die "$1: no such directory"
	[ -d "$real" ] || die "$1: not a directory"
	covered "$real" && return 0
	for l in $layers; do
		case "$l/" in
		"$real"/*) die "$1 would hide the layer on $l: name it first" ;;
		esac
	done
	n=$((n + 1))
	mkdir "$scratch/$n" "$scratch/$n/upper" "$scratch/$n/work"
	mount -t overlay "nsrun$n" -o "lowerdir=$real,upperdir=$scratch/$n/upper,workdir=$scratch/$n/work" "$real" ||
	    die "cannot overlay $real"
	layers="$layers $real"
}

# Directories first, so that links go into their layers.
for a in "$@"; do
	case "$a" in
	--)	break ;;
	*=*)	;;
	*)	overlay "$a" ;;
	esac
done
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	case "$1" in
	*=*)
		path=${1%%=*}
		dir=$(dirname "$path")
		top=$dir
		while [ ! -d "$top" ]; do
			top=$(dirname "$top")
		done
		overlay "$top"
		mkdir -p "$dir"
		rm -f "$path"
		ln -s "${1#*=}" "$path" || die "cannot link $path"
		;;
	esac
	shift
done
shift
exec "$@"
