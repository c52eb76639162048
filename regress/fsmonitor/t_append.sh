# Append-only and immutable files (chattr +a, +i) through a mount: every
# way of writing is made natively and through the mount by the same
# user, and compared.  What fails natively leaves the backing file's
# bytes as they were through the mount too (an append-only file may
# only grow); what succeeds natively succeeds through the mount; the
# errors are the native ones but where fsworker(8) says otherwise.

. "$(atf_get_srcdir)/common.sh"

APPENDOP="$TOP/regress/fsmonitor/appendop"
OPS="open openrw write pwrite pwritev2 mmap setfl_write setfl_pwrite aio
setfl_aio uring uring_noappend setfl_uring ftruncate truncate fallocate
fallocate_keep punch zero cfr setfl_cfr"
U="timeout 20 as_user $TESTUSER"

# append_setup FSTYPE [MOUNT-OPTIONS]: the test user's FSTYPE as the
# source, mounted by them, or by root where the options say multiuser.
append_setup()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	case "$1" in
	tmpfs)	fsm_fs tmpfs "$w/s" size=8M ;;
	*)	fsm_fs "$1" "$w/s" ;;
	esac
	chown "$TESTUSER:" "$w/s"
	mkdir "$w/m"
	chown "$TESTUSER" "$w/m"
	case "$2" in
	multiuser*)
		atf_check fsctl mount -o "$2" "$w/s" "$w/m" ;;
	*)
		atf_check fsctl_as "$TESTUSER" mount ${2:+-o "$2"} "$w/s" "$w/m" ;;
	esac
	printf SRC >"$w/s/src"
	chown "$TESTUSER:" "$w/s/src"
	head -c 4096 /dev/zero | tr '\0' A >ref
	: >failures
}

append_cleanup()
{
	if [ -f fsm.workdir ]; then
		chattr -a -i "$(cat fsm.workdir)"/s/* 2>/dev/null
	fi
	fsm_cleanup
}

# append_file PATH: 4096 bytes of A, the test user's.
append_file()
{
	cp ref "$1"
	chown "$TESTUSER:" "$1"
}

# append_held FLAG FILE BACKING OP SOURCE: appendop -h on FILE, with
# FLAG set on BACKING while it holds FILE open; prints its line.
append_held()
{
	d="$w/sync.$$"
	rm -rf "$d"
	mkdir "$d"
	chown "$TESTUSER" "$d"
	$U "$APPENDOP" -h "$d" "$2" "$4" "$5" >held.out &
	fsm_wait_until 20 test -e "$d/held" ||
	    atf_fail "appendop did not open $2"
	chattr "+$1" "$3"
	touch "$d/go"
	wait $!
	rm -rf "$d"
	cat held.out
}

# append_documented MODE OP NATIVE MOUNT: a difference fsworker(8)
# describes.  The kernel tells a FUSE server of no fcntl(F_SETFL) and no
# RWF_NOAPPEND, and its FUSE inode has no append-only flag: what it
# lets through, the backing file appends.  A shared mapping of a file
# served without the page cache fails with ENODEV, or, with
# cache=never, succeeds and has what is written through it appended.
# An open for writing of a file that became append-only while it was
# open in passthrough mode fails with ETXTBSY; with the writeback cache,
# every open for writing of an append-only file fails with EPERM, and a
# write through an open from before a file became immutable lands in
# the page cache, to fail when written back.
append_documented()
{
	if [ "$1" = held ] && [ "$append_busy" = yes ] && [ "$4" = ETXTBSY ]
	then
		return 0
	fi
	if [ "$append_wb" = yes ]; then
		[ "$4" = EPERM ] && return 0
		[ "$2:$3:$4" = held:EPERM:4 ] && return 0
	fi
	shift
	case "$1:$2:$3" in
	setfl_*:"EPERM "*:"ok "*)
		[ "${2#EPERM }" = "${3#ok }" ] ;;
	pwritev2:EPERM:4|uring_noappend:EPERM:4)
		return 0 ;;
	mmap:EACCES:ENODEV)
		return 0 ;;
	mmap:EACCES:ok)
		[ "$append_mmap_ok" = yes ] ;;
	*)
		return 1 ;;
	esac
}

# append_fail WHY: recorded; the case fails once every op has run.
append_fail()
{
	echo "$*" >>failures
}

# append_op FLAG MODE OP: OP on a fresh file natively and through the
# mount, after FLAG (a or i) is set on both: before their opens (fresh),
# after a write through the mount that leaves a kept registration
# (kept), or while each is held open for writing (held).
append_op()
{
	flag=$1 mode=$2 op=$3
	n="$w/s/n.$flag.$mode.$op"
	t="$w/s/t.$flag.$mode.$op"
	tm="$w/m/t.$flag.$mode.$op"
	append_file "$n"
	append_file "$t"
	case "$mode" in
	fresh)
		chattr "+$flag" "$n" "$t"
		nat=$($U "$APPENDOP" "$n" "$op" "$w/s/src")
		mnt=$($U "$APPENDOP" "$tm" "$op" "$w/m/src")
		;;
	kept)
		$U sh -c ": >>'$tm'" || atf_fail "cannot write $tm"
		chattr "+$flag" "$n" "$t"
		nat=$($U "$APPENDOP" "$n" "$op" "$w/s/src")
		mnt=$($U "$APPENDOP" "$tm" "$op" "$w/m/src")
		;;
	held)
		nat=$(append_held "$flag" "$n" "$n" "$op" "$w/s/src")
		mnt=$(append_held "$flag" "$tm" "$t" "$op" "$w/m/src")
		;;
	esac
	echo "+$flag $mode $op: native '$nat', mount '$mnt'"
	if [ "$nat" != "$mnt" ] &&
	    ! append_documented "$mode" "$op" "$nat" "$mnt"
	then
		append_fail "+$flag $mode $op: mount '$mnt', native '$nat'"
	fi
	# What the native call left, the mount leaves: the first 4096
	# bytes (+a), the whole file (+i).
	if [ "$flag" = a ]; then
		head -c 4096 "$n" >n.head
		head -c 4096 "$t" >t.head
		if cmp -s ref n.head && ! cmp -s ref t.head; then
			append_fail "+a $mode $op: overwritten through the mount"
		fi
	elif cmp -s ref "$n" && ! cmp -s ref "$t"; then
		append_fail "+i $mode $op: changed through the mount"
	fi
}

# append_all MODES...: every op, +a and +i, in each mode.
append_all()
{
	for mode in "$@"; do
		for flag in a i; do
			for op in $OPS; do
				append_op "$flag" "$mode" "$op"
			done
			[ "$mode" = held ] && append_op "$flag" held held
		done
	done
	if [ -s failures ]; then
		atf_fail "$(wc -l <failures) differences:" \
		    "$(head -3 failures | tr '\n' ';')"
	fi
}

atf_test_case ext4 cleanup
ext4_head()
{
	atf_set descr "chattr +a and +i on ext4 through a default " \
	    "(passthrough) mount: nothing overwrites, before or after a " \
	    "registration is kept or while the file is open"
	atf_set require.user root
	atf_set require.progs chattr mkfs.ext4
}
ext4_body()
{
	append_busy=yes
	append_setup ext4
	append_all fresh kept held
}
ext4_cleanup()
{
	append_cleanup
}

atf_test_case ext4_nopassthrough cleanup
ext4_nopassthrough_head()
{
	atf_set descr "chattr +a and +i on ext4 through a nopassthrough " \
	    "mount: the worker's own path compares alike"
	atf_set require.user root
	atf_set require.progs chattr mkfs.ext4
}
ext4_nopassthrough_body()
{
	append_setup ext4 nopassthrough
	append_all fresh kept held
}
ext4_nopassthrough_cleanup()
{
	append_cleanup
}

atf_test_case tmpfs cleanup
tmpfs_head()
{
	atf_set descr "chattr +a and +i on tmpfs through a default mount"
	atf_set require.user root
	atf_set require.progs chattr
}
tmpfs_body()
{
	append_busy=yes
	append_setup tmpfs
	append_all fresh kept held
}
tmpfs_cleanup()
{
	append_cleanup
}

atf_test_case cache_never cleanup
cache_never_head()
{
	atf_set descr "chattr +a and +i on ext4 with cache=never, where " \
	    "shared mappings of files served without the page cache work"
	atf_set require.user root
	atf_set require.progs chattr mkfs.ext4
}
cache_never_body()
{
	append_mmap_ok=yes
	append_busy=yes
	append_setup ext4 cache=never
	append_all fresh kept held
}
cache_never_cleanup()
{
	append_cleanup
}

atf_test_case writeback cleanup
writeback_head()
{
	atf_set descr "chattr +a and +i on ext4 with the writeback cache, " \
	    "where the worker opens no file O_APPEND"
	atf_set require.user root
	atf_set require.progs chattr mkfs.ext4
}
writeback_body()
{
	append_wb=yes
	append_setup ext4 writeback
	append_all fresh kept held
}
writeback_cleanup()
{
	append_cleanup
}

atf_test_case multiuser cleanup
multiuser_head()
{
	atf_set descr "chattr +a and +i on ext4 through root's multiuser " \
	    "mount, used by the test user"
	atf_set require.user root
	atf_set require.progs chattr mkfs.ext4
}
multiuser_body()
{
	append_busy=yes
	append_setup ext4 multiuser
	append_all fresh kept held
}
multiuser_cleanup()
{
	append_cleanup
}

atf_test_case fsmount_refuses cleanup
fsmount_refuses_head()
{
	atf_set descr "fsmount refuses to register an append-only file " \
	    "that a worker asks it to, with EPERM, and registers a plain one"
	atf_set require.user root
	atf_set require.progs chattr mkfs.ext4
}
fsmount_refuses_body()
{
	w=$(fsm_workdir)
	FSMONITOR_WORKER_WRAP="$(atf_get_srcdir)/regworker" fsm_start
	fsm_fs ext4 "$w/s"
	mkdir "$w/m"
	printf 'plain\nappend\n' >"$w/s/names"
	head -c 4096 /dev/zero | tr '\0' A >"$w/s/plain"
	cp "$w/s/plain" "$w/s/append"
	chattr +a "$w/s/append"
	# regworker exits once done, before serving: the mount fails.
	atf_check -s exit:1 -e match:"before serving" \
	    fsctl mount "$w/s" "$w/m"
	atf_check -o inline:"plain ok\nappend EPERM\n" cat "$w/s/result"
}
fsmount_refuses_cleanup()
{
	append_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case ext4
	atf_add_test_case ext4_nopassthrough
	atf_add_test_case tmpfs
	atf_add_test_case cache_never
	atf_add_test_case writeback
	atf_add_test_case multiuser
	atf_add_test_case fsmount_refuses
}
