# The backing filesystem fails under the mount: full, or read-only.
# The errors come through exactly, data made durable before is intact
# on the backing tree, nothing hangs (every call under a timeout) and
# the rest of the mount goes on working.

. "$(atf_get_srcdir)/common.sh"

FSOP="$TOP/regress/fsworker/fsop"

# backing_tmpfs SIZE: a tmpfs owned by the test user as the source.
backing_tmpfs()
{
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	mount -t tmpfs -o "size=$1,mode=0755,uid=$(id -u "$TESTUSER"),gid=$(id -g "$TESTUSER")" \
	    fsm-backing "$w/s" || atf_fail "cannot mount a tmpfs"
	echo "$w/s" >backing.mnt
	chown "$TESTUSER" "$w/m"
}

backing_cleanup()
{
	# Lazily: the worker's own namespace still holds it.
	[ -f backing.mnt ] && umount -l "$(cat backing.mnt)" 2>/dev/null
	rm -f backing.mnt
	fsm_cleanup
}

# As the test user, under a timeout.
U="timeout 20 as_user $TESTUSER"

atf_test_case full cleanup
full_head()
{
	atf_set descr "A full backing filesystem: writes give ENOSPC, data " \
	    "fsynced before is intact, and reads, listing, unlink and new " \
	    "writes once there is room all work"
	atf_set require.user root
}
full_body()
{
	fsm_users
	fsm_start
	backing_tmpfs 1M
	w=$(fsm_workdir)
	atf_check fsctl_as "$TESTUSER" mount "$w/s" "$w/m"
	head -c 200000 /dev/urandom >ref
	chmod 644 ref
	atf_check $U dd if="$PWD/ref" of="$w/m/keep" bs=65536 conv=fsync \
	    status=none
	atf_check cmp ref "$w/s/keep"
	# Fill what is left, through the mount.
	atf_check -s exit:1 -o inline:"ENOSPC\n" $U "$FSOP" write "$w/m/big" 0 2000000
	atf_check -s exit:1 -o inline:"ENOSPC\n" $U "$FSOP" write "$w/m/big2" 0 65536
	atf_check -s exit:1 -o inline:"ENOSPC\n" $U "$FSOP" fallocate "$w/m/keep" 0 2000000
	atf_check -s exit:1 -e match:"No space left on device" \
	    $U sh -c "cat '$w/m/keep' '$w/m/keep' >'$w/m/copy'"
	# What was there is intact, on the backing tree and through the mount.
	atf_check cmp ref "$w/s/keep"
	atf_check -o save:back $U cat "$w/m/keep"
	atf_check cmp ref back
	atf_check -o match:"keep" $U ls "$w/m"
	atf_check -o match:"200000" $U stat -c %s "$w/m/keep"
	atf_check -o match:"$w/m .*running" fsctl status
	# Room again: writing works again.
	atf_check $U rm -f "$w/m/big" "$w/m/big2" "$w/m/copy"
	atf_check -o inline:"65536\n" $U "$FSOP" write "$w/m/after" 0 65536
	atf_check -o inline:"65536\n" stat -c %s "$w/s/after"
	atf_check fsctl_as "$TESTUSER" unmount "$w/m"
}
full_cleanup()
{
	backing_cleanup
}

atf_test_case readonly cleanup
readonly_head()
{
	atf_set descr "A backing filesystem remounted read-only under a rw " \
	    "mount: every change gives EROFS, reads and listing work, " \
	    "and the data is what it was"
	atf_set require.user root
}
readonly_body()
{
	fsm_users
	fsm_start
	backing_tmpfs 4M
	w=$(fsm_workdir)
	head -c 100000 /dev/urandom >ref
	cp ref "$w/s/f"
	mkdir "$w/s/d"
	chown -R "$TESTUSER" "$w/s"
	atf_check fsctl_as "$TESTUSER" mount "$w/s" "$w/m"
	atf_check -o inline:"100000\n" $U "$FSOP" write "$w/m/g" 0 100000
	atf_check mount -o remount,ro "$w/s"
	atf_check -s exit:1 -o inline:"EROFS\n" $U "$FSOP" write "$w/m/f" 0 10
	atf_check -s exit:1 -o inline:"EROFS\n" $U "$FSOP" write "$w/m/new" 0 10
	atf_check -s exit:1 -o inline:"EROFS\n" $U "$FSOP" xattr set "$w/m/f" user.a b
	atf_check -s exit:1 -o inline:"EROFS\n" $U "$FSOP" tmpfile "$w/m"
	ro="Read-only file system"
	atf_check -s not-exit:0 -e match:"$ro" $U mkdir "$w/m/d2"
	atf_check -s not-exit:0 -e match:"$ro" $U rm "$w/m/f"
	atf_check -s not-exit:0 -e match:"$ro" $U rmdir "$w/m/d"
	atf_check -s not-exit:0 -e match:"$ro" $U mv "$w/m/f" "$w/m/f2"
	atf_check -s not-exit:0 -e match:"$ro" $U chmod 600 "$w/m/f"
	atf_check -s not-exit:0 -e match:"$ro" $U ln -s f "$w/m/l"
	atf_check -s not-exit:0 -e match:"$ro" $U truncate -s 0 "$w/m/f"
	atf_check -s not-exit:0 -e match:"$ro" $U touch "$w/m/f"
	# Everything that only reads still works; nothing changed.
	atf_check -o save:back $U cat "$w/m/f"
	atf_check cmp ref back
	atf_check cmp ref "$w/s/f"
	atf_check -o inline:"100000\n" stat -c %s "$w/s/g"
	atf_check -o inline:"d\nf\ng\n" $U ls "$w/m"
	atf_check -o match:"$w/m" fsctl status
	atf_check -o not-match:"failed" fsctl status
	atf_check fsctl_as "$TESTUSER" unmount "$w/m"
}
readonly_cleanup()
{
	backing_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case full
	atf_add_test_case readonly
}
