# Escapes: nothing outside a mounted tree is ever reached through a mount
# made by fsmonitor, by root or by a user for a tree of their own.  What
# the kernel resolves on the caller's side (a symlink's target, ".." at
# the mount's root) is the caller's business and is shown as such; what
# the worker does stays in the tree.

. "$(atf_get_srcdir)/../fsmonitor/common.sh"

ESC="$(atf_get_srcdir)/escape"

# esc_mount WHO [OPTIONS]: a tree of WHO's (root or user), S, mounted by
# WHO through fsmonitor on M.  P is the directory S is in and Q the one M
# is in, different, so that each side's ".." can be told apart; R runs a
# command as WHO, and U is WHO's user name.
esc_mount()
{
	w=$(fsm_workdir)
	P="$w/s.$1" Q="$w/m.$1"
	S="$P/tree" M="$Q/mnt"
	mkdir -m 755 "$P" "$Q" "$S" "$M"
	if [ "$1" = root ]; then
		R=env U=root
		atf_check fsctl mount ${2:+-o "$2"} "$S" "$M"
	else
		R="as_user $TESTUSER" U=$TESTUSER
		chown "$U:$U" "$P" "$Q" "$S" "$M"
		atf_check fsctl_as "$U" mount ${2:+-o "$2"} "$S" "$M"
	fi
}

# In the tree as WHO would have made it.
own()
{
	chown -h "$U:$U" "$@"
}

# The worker serving mountpoint $1.
worker_pid()
{
	p=$(fsctl status | awk -v m="$1" '$2 == m { print $5 }')
	[ -n "$p" ] && [ -d "/proc/$p" ] || atf_fail "no worker for $1"
	echo "$p"
}

# OPEN and CREATE requests the workers logged so far: with -d -v they
# log each request's name.  Should that wording change, this stays 0 and
# proves nothing, but fails nothing either.
opens()
{
	fsm_log | grep -c "fuse_dispatch: \(OPEN\|CREATE\) "
	true
}

esc_setup()
{
	fsm_users
	fsm_start
}

atf_test_case abs_symlink cleanup
abs_symlink_head()
{
	atf_set descr "An absolute symlink comes back verbatim; the kernel " \
	    "follows it for the caller, and nothing creates through it"
	atf_set require.user root
}
abs_symlink_body()
{
	esc_setup
	before=$(stat -c '%s %Y %Z %h' /etc/passwd)
	for who in root user; do
		esc_mount $who
		ln -s /etc/passwd "$S/abs"
		ln -s /proc/self/root "$S/magic"
		own "$S/abs" "$S/magic"
		atf_check -o inline:"/etc/passwd\n" $R readlink "$M/abs"
		atf_check -o inline:"/proc/self/root\n" $R readlink "$M/magic"
		# Followed by the kernel in the caller's namespace: expected.
		atf_check -o file:/etc/passwd $R cat "$M/abs"
		atf_check -o inline:"same\n" $R "$ESC" same "$M/abs" /etc/passwd
		atf_check -o inline:"same\n" $R "$ESC" same "$M/magic" /
		# Through the link's directory, never through the link.
		atf_check -o inline:"ELOOP\n" \
		    $R "$ESC" openat "$M" abs wronly,creat,nofollow
		atf_check -o inline:"ELOOP\n" \
		    $R "$ESC" openat "$M" abs wronly,trunc,nofollow
		atf_check -o inline:"EEXIST\n" \
		    $R "$ESC" openat "$M" abs wronly,creat,excl
		atf_check -o inline:"EEXIST\n" \
		    $R "$ESC" openat "$M" magic wronly,creat,excl
		atf_check -o inline:"ok\n" \
		    $R "$ESC" openat "$M" abs path,nofollow
		atf_check -s not-exit:0 -e ignore $R mkdir "$M/abs"
		atf_check -o inline:"symbolic link\n" stat -c %F "$S/abs"
		atf_check -o inline:"/etc/passwd\n" readlink "$S/abs"
	done
	atf_check_equal "$before" "$(stat -c '%s %Y %Z %h' /etc/passwd)"
}
abs_symlink_cleanup()
{
	fsm_cleanup
}

atf_test_case dotdot_symlink cleanup
dotdot_symlink_head()
{
	atf_set descr "A ../.. symlink in the tree leads, on the caller's " \
	    "side, above the mountpoint, never above the source"
	atf_set require.user root
}
dotdot_symlink_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		mkdir -m 755 "$S/sub"
		ln -s ../.. "$S/sub/up"
		ln -s ../../.. "$S/sub/up3"
		own "$S/sub" "$S/sub/up" "$S/sub/up3"
		echo secret >"$P/beside-source"
		atf_check -o inline:"../..\n" $R readlink "$M/sub/up"
		atf_check -o inline:"same\n" $R "$ESC" same "$M/sub/up" "$Q"
		atf_check -o inline:"different\n" \
		    $R "$ESC" same "$M/sub/up" "$P"
		atf_check -o inline:"same\n" \
		    $R "$ESC" same "$M/sub/up3" "$(dirname "$Q")"
		atf_check -o inline:"mnt\n" $R ls "$M/sub/up/"
		atf_check -s not-exit:0 -e ignore \
		    $R cat "$M/sub/up/beside-source"
		atf_check -o inline:"ENOENT\n" \
		    $R "$ESC" openat "$M/sub" up/beside-source rdonly
		atf_check -o inline:"ENOENT\n" \
		    $R "$ESC" open "$M/sub/up/mnt/x" rdonly
		atf_check -o inline:"secret\n" cat "$P/beside-source"
		atf_check -o inline:"beside-source\ntree\n" ls "$P"
	done
}
dotdot_symlink_cleanup()
{
	fsm_cleanup
}

atf_test_case dotdot_root cleanup
dotdot_root_head()
{
	atf_set descr "'..' at the mount's root is the mountpoint's parent " \
	    "on the host, not the source's"
	atf_set require.user root
}
dotdot_root_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		touch "$P/beside-source" "$Q/beside-mountpoint"
		atf_check -o inline:"host-parent\n" $R "$ESC" dotdot "$M" "$S"
		atf_check -o inline:"same\n" $R "$ESC" same "$M/.." "$Q"
		atf_check -o inline:"same\n" $R "$ESC" same "$M/../.." \
		    "$(dirname "$Q")"
		atf_check -o inline:"beside-mountpoint\nmnt\n" $R ls "$M/.."
		atf_check -o inline:"beside-mountpoint\nmnt\n" \
		    $R ls "$M/./../mnt/.."
		atf_check -o inline:"same\n" $R "$ESC" same "$M/../mnt" "$M"
	done
}
dotdot_root_cleanup()
{
	fsm_cleanup
}

atf_test_case swap_race cleanup
swap_race_head()
{
	atf_set descr "A directory swapped for a symlink to an outside " \
	    "directory while files are created under its name: nothing " \
	    "lands outside"
	atf_set require.user root
	atf_set timeout 60
}
swap_race_body()
{
	esc_setup
	for who in root user; do
		# Lookups reach the worker every time, to race it harder.
		esc_mount $who timeout=0
		out="$P/out"
		mkdir -m 777 "$out"
		mkdir -m 755 "$S/dir"
		# Relative: from the worker's side it names $P/out; from the
		# caller's side $Q/out, which does not exist, so a caller
		# following it (the kernel, legitimately) finds nothing.
		ln -s ../out "$S/lnk"
		own "$S/dir" "$S/lnk"
		$R "$ESC" creatloop "$M/dir" 3 >creat.$who &
		creat=$!
		$R "$ESC" swaploop "$S/dir" "$S/lnk" 3 >swap.$who ||
		    atf_fail "swapping failed"
		wait $creat || atf_fail "creating failed"
		echo "$who: $(cat creat.$who) $(cat swap.$who)"
		atf_check -o empty ls -A "$out"
		atf_check -s not-exit:0 test -e "$Q/out"
		test -d "$S/dir" && test -L "$S/lnk" ||
		    atf_fail "the tree did not end as it began"
		n=$(ls "$S/dir" | wc -l)
		created=$(sed 's/created=\([0-9]*\).*/\1/' creat.$who)
		[ "$created" -gt 0 ] || atf_fail "nothing was created"
		atf_check_equal "$n" "$created"
		fsm_is_mounted "$M" || atf_fail "the mount went away"
	done
}
swap_race_cleanup()
{
	fsm_cleanup
}

atf_test_case device_node cleanup
device_node_head()
{
	atf_set descr "A device node in the tree cannot be opened through " \
	    "the mount (nodev)"
	atf_set require.user root
}
device_node_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		mknod -m 666 "$S/null" c 1 3
		mknod -m 666 "$S/loop" b 7 0
		atf_check -o match:"^[^ ]* [^ ]* [^ ]* / $M [^ ]*nodev" \
		    cat /proc/self/mountinfo
		atf_check -o inline:"character special file 1 3\n" \
		    $R stat -c "%F %t %T" "$M/null"
		before=$(opens)
		atf_check -o inline:"EACCES\n" $R "$ESC" open "$M/null" rdonly
		atf_check -o inline:"EACCES\n" $R "$ESC" open "$M/null" wronly
		atf_check -o inline:"EACCES\n" \
		    $R "$ESC" open "$M/null" rdonly,nonblock
		atf_check -o inline:"EACCES\n" $R "$ESC" open "$M/loop" rdonly
		# Refused by the kernel: the worker was not even asked.
		atf_check_equal "$before" "$(opens)"
		atf_check -o inline:"ok\n" $R "$ESC" open "$M/null" path
	done
}
device_node_cleanup()
{
	fsm_cleanup
}

atf_test_case fifo cleanup
fifo_head()
{
	atf_set descr "A FIFO through the mount is the kernel's pipe: the " \
	    "worker never opens the backing FIFO and is never blocked by one"
	atf_set require.user root
	atf_set timeout 60
}
fifo_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		mkfifo -m 666 "$S/fifo"
		own "$S/fifo"
		# No reader: ENXIO; a reader opens at once; a writer on the
		# backing FIFO then finds no reader there, so the worker did
		# not open it; the mount's FIFO carries data between the two.
		r="wronly_nonblock=ENXIO rdonly_nonblock=ok"
		r="$r backing_writer=ENXIO pipe=ok"
		before=$(opens)
		atf_check -o inline:"$r\n" $R "$ESC" fifo "$M/fifo" "$S/fifo"
		atf_check_equal "$before" "$(opens)"
		# A blocking open waits in the kernel, not in the worker,
		# which goes on serving.
		$R timeout 20 cat "$M/fifo" >fifo.$who &
		reader=$!
		sleep 0.5
		atf_check -o inline:"fifo\n" $R timeout 5 ls "$M"
		atf_check -o inline:"fifo\n" $R timeout 5 stat -c %F "$M/fifo"
		atf_check $R timeout 5 sh -c 'echo through >"$1"' sh "$M/fifo"
		wait $reader || atf_fail "the reader did not finish"
		atf_check -o inline:"through\n" cat fifo.$who
	done
}
fifo_cleanup()
{
	fsm_cleanup
}

atf_test_case hardlink_out cleanup
hardlink_out_head()
{
	atf_set descr "Hard links between the mount and anything outside " \
	    "it are impossible (EXDEV)"
	atf_set require.user root
}
hardlink_out_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		echo in >"$S/file"
		echo out >"$Q/outside"
		own "$S/file" "$Q/outside"
		atf_check -o inline:"EXDEV\n" \
		    $R "$ESC" link "$M/file" "$Q/linked-out"
		atf_check -o inline:"EXDEV\n" \
		    $R "$ESC" link "$Q/outside" "$M/linked-in"
		atf_check -o inline:"EXDEV\n" \
		    $R "$ESC" link "$S/file" "$M/linked-src"
		atf_check -o inline:"EXDEV\n" \
		    $R "$ESC" link /etc/passwd "$M/passwd"
		atf_check_equal "1 1" \
		    "$(stat -c %h "$S/file" "$Q/outside" | xargs)"
		atf_check -o inline:"file\n" ls "$S"
		atf_check -s not-exit:0 test -e "$Q/linked-out"
		atf_check -o inline:"1\n" stat -c %h /etc/passwd
	done
}
hardlink_out_cleanup()
{
	fsm_cleanup
}

# Until the worker's sandbox lands these fail; they say every way they
# fail, for both kinds of mount, rather than the first.
fails=
not_ok()
{
	echo "$*" >&2
	fails="${fails:+$fails; }$*"
}

# ns_differs WPID NS...: the worker's namespace is not ours, for one of
# the names given.
ns_differs()
{
	p=$1
	shift
	for ns in "$@"; do
		[ "$(readlink "/proc/$p/ns/$ns")" != \
		    "$(readlink /proc/self/ns/${ns%_for_children})" ] &&
		    return 0
	done
	return 1
}

atf_test_case worker_root cleanup
worker_root_head()
{
	atf_set descr "The worker sees only its tree: its root is the " \
	    "source, in a mount namespace of its own"
	atf_set require.user root
}
worker_root_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		mkdir "$S/a-dir"
		touch "$S/a-file"
		wpid=$(worker_pid "$M")
		ls -A "$S" >src.$who
		ls -A "/proc/$wpid/root/" >root.$who
		diff -u src.$who root.$who >&2 ||
		    not_ok "$who: the worker's / is not the source" \
		    "($(wc -l <root.$who) entries)"
		ns_differs "$wpid" mnt ||
		    not_ok "$who: the worker is in the host's mount namespace"
	done
	[ -z "$fails" ] || atf_fail "$fails"
}
worker_root_cleanup()
{
	fsm_cleanup
}

atf_test_case worker_netns cleanup
worker_netns_head()
{
	atf_set descr "The worker has no network: its own network " \
	    "namespace, with only lo"
	atf_set require.user root
}
worker_netns_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		wpid=$(worker_pid "$M")
		ns_differs "$wpid" net ||
		    not_ok "$who: the worker is in the host's network namespace"
		ifs=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' \
		    "/proc/$wpid/net/dev" | xargs)
		[ "$ifs" = lo ] || not_ok "$who: the worker sees $ifs"
	done
	[ -z "$fails" ] || atf_fail "$fails"
}
worker_netns_cleanup()
{
	fsm_cleanup
}

atf_test_case worker_namespaces cleanup
worker_namespaces_head()
{
	atf_set descr "The worker's pid, ipc and uts namespaces are its own"
	atf_set require.user root
}
worker_namespaces_body()
{
	esc_setup
	for who in root user; do
		esc_mount $who
		wpid=$(worker_pid "$M")
		for ns in ipc uts; do
			ns_differs "$wpid" $ns ||
			    not_ok "$who: the worker is in the host's" \
			    "$ns namespace"
		done
		# The worker itself, or the children it makes after unshare(2).
		ns_differs "$wpid" pid pid_for_children ||
		    not_ok "$who: the worker is in the host's pid namespace"
	done
	[ -z "$fails" ] || atf_fail "$fails"
}
worker_namespaces_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case abs_symlink
	atf_add_test_case dotdot_symlink
	atf_add_test_case dotdot_root
	atf_add_test_case swap_race
	atf_add_test_case device_node
	atf_add_test_case fifo
	atf_add_test_case hardlink_out
	atf_add_test_case worker_root
	atf_add_test_case worker_netns
	atf_add_test_case worker_namespaces
}
