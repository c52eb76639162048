# POSIX ACLs through mounts whose kernel checks permissions: multiuser
# mounts and owner mounts with allow_other and default_permissions,
# with passthrough and without, on tmpfs and on ext4.  Every check runs
# the same operation as the same user natively and through each mount,
# and wants the same outcome: nothing through a mount may exceed, or
# fall short of, what the ACLs give natively.
#
# A is the test user fsmtest, who owns the tree and the owner mounts;
# B is fsmtest2, also a member of a group G made for the test.

. "$(atf_get_srcdir)/common.sh"

A=$TESTUSER
B=$TESTUSER2

# acl_group: G's name, made once per test and removed by acl_cleanup.
acl_group()
{
	if [ ! -f acl.group ]; then
		g="fsmacl$$"
		n=0
		# Another process may hold the group file's lock a moment.
		until groupadd -U "$B" "$g" 2>/dev/null; do
			n=$((n + 1))
			[ $n -gt 20 ] && atf_fail "cannot create group $g"
			sleep 0.1
		done
		echo "$g" >acl.group
	fi
	cat acl.group
}

# FSM_ACL OP PATH [ARG...]: one operation, its result or errno name on
# stdout: read, write (a byte at 0, the same as was there), list,
# create and mkdir (under umask 022 or ARG), xlist, xget NAME.
acl_commands()
{
	cat >"$1/bin/fsm_acl" <<'CMD'
#!/usr/bin/env python3
import errno, os, sys
op, path = sys.argv[1], sys.argv[2]
os.umask(int(sys.argv[3], 8) if op in ("create", "mkdir") and
    len(sys.argv) > 3 else 0o022)
try:
    if op == "read":
        with open(path, "rb") as f:
            out = f.read().decode().rstrip("\n")
    elif op == "write":
        fd = os.open(path, os.O_WRONLY)
        os.pwrite(fd, b"d", 0)
        os.close(fd)
        out = "ok"
    elif op == "list":
        out = " ".join(sorted(os.listdir(path)))
    elif op == "create":
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        out = "ok"
    elif op == "mkdir":
        os.mkdir(path, 0o777)
        out = "ok"
    elif op == "xlist":
        out = " ".join(sorted(os.listxattr(path)))
    elif op == "xget":
        out = os.getxattr(path, sys.argv[3]).decode()
    else:
        sys.exit("fsm_acl: unknown operation " + op)
except OSError as e:
    # Python names 95 ENOTSUP, Linux's other name for it.
    out = "EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else \
        errno.errorcode[e.errno]
print(out)
CMD
	chmod 755 "$1/bin/fsm_acl"
}

# acl_setup FS: fsmonitor, a filesystem of type FS and on it the source
# tree SRC, A's, with nothing in it yet.
acl_setup()
{
	fsm_users
	acl_group >/dev/null
	fsm_start user_allow_other
	w=$(fsm_workdir)
	acl_commands "$w"
	FSM_ACL="$w/bin/fsm_acl"
	fsm_fs "$1" "$w/fs"
	SRC="$w/fs/src"
	mkdir -m 755 "$SRC"
	chown "$A:$A" "$SRC"
	MNTS=
}

# acl_mount NAME OPTIONS: root mounts SRC on NAME with OPTIONS, or A
# does when OPTIONS do not say multiuser.
acl_mount()
{
	m="$(fsm_workdir)/$1"
	mkdir -m 755 "$m"
	case "$2" in
	*multiuser*)
		atf_check fsctl mount -o "$2" "$SRC" "$m"
		;;
	*)
		chown "$A:$A" "$m"
		atf_check fsctl_as "$A" mount -o "$2" "$SRC" "$m"
		;;
	esac
	MNTS="$MNTS $m"
}

# acl_mounts [OPTIONS]: the five kinds of mount, with OPTIONS too.
# allow_other alone has the kernel check permissions all the same.
acl_mounts()
{
	acl_mount mu "multiuser$1"
	acl_mount mu_np "multiuser,nopassthrough$1"
	acl_mount ow "allow_other,default_permissions$1"
	acl_mount ow_np "allow_other,default_permissions,nopassthrough$1"
	acl_mount ao "allow_other$1"
}

# file PATH MODE [CONTENT]: a file of A's in SRC.
file()
{
	printf '%s\n' "${3:-data}" >"$SRC/$1"
	chown "$A:$A" "$SRC/$1"
	chmod "$2" "$SRC/$1"
}

# dir PATH MODE [FILE...]: a directory of A's in SRC, with 0644 files.
dir()
{
	d=$1
	dm=$2
	shift 2
	mkdir "$SRC/$d"
	for f in "$@"; do
		file "$d/$f" 644 "$f"
	done
	chown "$A:$A" "$SRC/$d"
	chmod "$dm" "$SRC/$d"
}

# same USER EXPECT OP PATH [ARG...]: as USER, OP on PATH gives EXPECT
# natively and through every mount.
same()
{
	u=$1
	exp=$2
	op=$3
	p=$4
	shift 4
	for sm in "$SRC" $MNTS; do
		atf_check -o inline:"$exp\n" \
		    as_user "$u" "$FSM_ACL" "$op" "$sm/$p" "$@"
	done
}

# acl PATH ENTRIES: setfacl -m ENTRIES, natively and as root.
acl()
{
	atf_check setfacl -m "$2" "$SRC/$1"
}

acl_cleanup()
{
	fsm_cleanup
	if [ -f acl.group ]; then
		n=0
		until groupdel "$(cat acl.group)" 2>/dev/null ||
		    ! getent group "$(cat acl.group)" >/dev/null; do
			n=$((n + 1))
			[ $n -gt 20 ] && break
			sleep 0.1
		done
		rm -f acl.group
	fi
}

# acl_case CASE DESCRIPTION...: CASE_body runs as CASE_tmpfs and as
# CASE_ext4, on a filesystem of that type.
acl_case()
{
	c=$1
	shift
	descr=$(printf '%s' "$@")
	for fs in tmpfs ext4; do
		eval "
		atf_test_case ${c}_$fs cleanup
		${c}_${fs}_head()
		{
			atf_set descr \"$descr ($fs)\"
			atf_set require.user root
			atf_set require.progs 'setfacl getfacl groupadd'
		}
		${c}_${fs}_body()
		{
			acl_setup $fs
			${c}_body
		}
		${c}_${fs}_cleanup()
		{
			acl_cleanup
		}"
	done
}

ACL_CASES="deny allow mask group default setfacl native sgid noxattr"

acl_case deny "An entry that denies what the mode bits give refuses " \
    "reading, writing and listing"
deny_body()
{
	file r 644
	acl r "u:$B:---"
	file w 666
	acl w "u:$B:r--"
	dir l 755 x y
	acl l "u:$B:--x"
	dir s 755 x
	acl s "u:$B:r--"
	acl_mounts
	same "$B" EACCES read r
	same "$A" data read r
	same "$B" EACCES write w
	same "$B" data read w
	same "$A" ok write w
	same "$B" EACCES list l
	same "$B" x read l/x
	same "$B" EACCES read s/x
	same "$B" x list s
	same "$A" "x y" list l
}

acl_case allow "An entry grants what the mode bits do not"
allow_body()
{
	file f 600
	acl f "u:$B:rw-"
	dir d 700 x
	acl d "u:$B:r-x"
	dir c 755
	acl c "u:$B:rwx"
	acl_mounts
	same "$B" data read f
	same "$B" ok write f
	same "$B" x list d
	same "$B" x read d/x
	atf_check -o inline:"ok\n" as_user "$B" "$FSM_ACL" create "$SRC/c/n"
	for m in $MNTS; do
		atf_check -o inline:"ok\n" \
		    as_user "$B" "$FSM_ACL" create "$m/c/n.${m##*/}"
	done
}

acl_case mask "The mask limits a named entry"
mask_body()
{
	file f 600
	acl f "u:$B:rw-,m:r--"
	dir d 700 x
	acl d "u:$B:rwx,m:--x"
	acl_mounts
	same "$B" data read f
	same "$B" EACCES write f
	same "$B" EACCES list d
	same "$B" x read d/x
	same "$B" EACCES create d/n
}

acl_case group "A group entry counts for a supplementary member"
group_body()
{
	g=$(acl_group)
	file f 600
	acl f "g:$g:r--"
	file h 644
	acl h "g:$g:---"
	dir d 700 x
	acl d "g:$g:r-x"
	acl_mounts
	atf_check -o match:"(^| )$g( |\$)" as_user "$B" id -Gn
	same "$B" data read f
	same "$B" EACCES write f
	same "$B" EACCES read h
	same "$A" data read h
	same "$B" x list d
	same "$B" x read d/x
}

acl_case default "A default ACL is inherited by what is made through " \
    "the mount as by what is made natively"
default_body()
{
	g=$(acl_group)
	dir d 755
	atf_check setfacl -m "d:u::rwx,d:g::r-x,d:o::r-x,d:u:$B:---" \
	    -m "d:g:$g:rw-,d:m:rwx" "$SRC/d"
	acl_mounts
	for mask in 022 077; do
		as_user "$A" "$FSM_ACL" create "$SRC/d/f.$mask" "$mask" >/dev/null
		as_user "$A" "$FSM_ACL" mkdir "$SRC/d/s.$mask" "$mask" >/dev/null
		getfacl -pcn "$SRC/d/f.$mask" >native.f
		getfacl -pcn "$SRC/d/s.$mask" >native.s
		for m in $MNTS; do
			t="${m##*/}.$mask"
			atf_check -o inline:"ok\n" \
			    as_user "$A" "$FSM_ACL" create "$m/d/f.$t" "$mask"
			atf_check -o inline:"ok\n" \
			    as_user "$A" "$FSM_ACL" mkdir "$m/d/s.$t" "$mask"
			atf_check -o file:native.f getfacl -pcn "$SRC/d/f.$t"
			atf_check -o file:native.s getfacl -pcn "$SRC/d/s.$t"
			atf_check -o file:native.f getfacl -pcn "$m/d/f.$t"
			atf_check -o inline:"$(stat -c %a "$SRC/d/f.$mask")\n" \
			    stat -c %a "$SRC/d/f.$t"
			# B is refused by the inherited entry, through any mount.
			same "$B" EACCES read "d/f.$t"
			same "$B" EACCES list "d/s.$t"
		done
	done
	same "$B" EACCES read "d/f.022"
}

acl_case setfacl "setfacl through a mount shows at once, there and " \
    "natively"
setfacl_body()
{
	file f 600
	file g 644
	acl_mounts
	all=$MNTS
	# Another mount may hold the old ACL until its attributes time out
	# (case native): each round looks natively and through its own.
	for m in $all; do
		MNTS=$m
		atf_check as_user "$A" setfacl -m "u:$B:r--" "$m/f"
		same "$B" data read f
		getfacl -pcn "$SRC/f" >native.acl
		atf_check -o file:native.acl getfacl -pcn "$m/f"
		atf_check -o match:"^user:$B:r--" getfacl -pc "$m/f"
		atf_check as_user "$A" setfacl -x "u:$B" "$m/f"
		same "$B" EACCES read f
		atf_check as_user "$A" setfacl -m "u:$B:---" "$m/g"
		same "$B" EACCES read g
		atf_check as_user "$A" setfacl -m "u:$B:rw-,m:r--" "$m/g"
		same "$B" data read g
		same "$B" EACCES write g
		atf_check as_user "$A" setfacl -m "m:rw-" "$m/g"
		same "$B" ok write g
		atf_check -o inline:"664\n" stat -c %a "$m/g"
		atf_check as_user "$A" setfacl -b "$m/f" "$m/g"
		atf_check -o inline:"600\n644\n" stat -c %a "$SRC/f" "$SRC/g"
		atf_check -o inline:"600\n644\n" stat -c %a "$m/f" "$m/g"
		same "$B" EACCES read f
		same "$B" data read g
		# Only the owner may change an ACL.
		atf_check -s not-exit:0 -e match:"Operation not permitted" \
		    as_user "$B" setfacl -m "u:$B:rw-" "$m/f"
	done
}

acl_case native "An ACL changed beside the mount counts through it " \
    "once the attribute timeout has run out"
# refused PATH: B may not read PATH.
refused()
{
	[ "$(as_user "$B" "$FSM_ACL" read "$1")" = EACCES ]
}

native_body()
{
	file f 644
	acl_mounts
	same "$B" data read f
	acl f "u:$B:---"
	for m in $MNTS; do
		fsm_wait_until 3 refused "$m/f" ||
		    atf_fail "$m/f: still readable after 3 s"
	done
	same "$B" EACCES read f
	atf_check setfacl -x "u:$B" "$SRC/f"
	# A refusal makes the kernel fetch the attributes and ACL again.
	same "$B" data read f
}

acl_case sgid "Setting an access ACL clears the set-group-ID bit of " \
    "an owner outside the file's group, and a default ACL does not"
sgid_body()
{
	file f 644
	dir d 755
	acl_mounts
	g=$(acl_group)
	for t in native $MNTS; do
		n=${t##*/}
		[ "$t" = native ] && t=$SRC
		file "f.$n" 2775
		chgrp "$g" "$SRC/f.$n"
		chmod 2775 "$SRC/f.$n"
		mkdir "$SRC/d.$n"
		chown "$A:$g" "$SRC/d.$n"
		chmod 2775 "$SRC/d.$n"
		# Without the extended SETXATTR (-K 5.14) the kernel cannot
		# say to clear the bit, which a multiuser worker keeps.
		cleared=775
		case "$n/$(fsm_kernel)" in
		mu*/5.14)
			cleared=2775
			;;
		esac
		atf_check as_user "$A" setfacl -m "u:$B:r-x" "$t/f.$n"
		atf_check -o inline:"$cleared\n" stat -c %a "$SRC/f.$n"
		atf_check as_user "$A" setfacl -d -m "u:$B:r-x" "$t/d.$n"
		atf_check -o inline:"2775\n" stat -c %a "$SRC/d.$n"
		atf_check as_user "$A" setfacl -m "u:$B:r-x" "$t/d.$n"
		atf_check -o inline:"$cleared\n" stat -c %a "$SRC/d.$n"
	done
}

acl_case noxattr "With noxattr, ACLs are still served and enforced, " \
    "and every other extended attribute is refused"
noxattr_body()
{
	file f 644
	acl f "u:$B:---"
	setfattr -n user.a -v b "$SRC/f"
	dir d 755 x
	acl_mounts ,noxattr
	same "$B" EACCES read f
	atf_check -o inline:"system.posix_acl_access user.a\n" \
	    "$FSM_ACL" xlist "$SRC/f"
	for m in $MNTS; do
		atf_check -o inline:"system.posix_acl_access\n" \
		    "$FSM_ACL" xlist "$m/f"
		atf_check -o inline:"\n" "$FSM_ACL" xlist "$m/d"
		atf_check -o inline:"EOPNOTSUPP\n" "$FSM_ACL" xget "$m/f" user.a
		atf_check -s not-exit:0 -e match:"Operation not supported" \
		    setfattr -n user.c -v d "$m/d"
		getfacl -pcn "$SRC/f" >native.acl
		atf_check -o file:native.acl getfacl -pcn "$m/f"
		atf_check as_user "$A" setfacl -m "u:$B:r--" "$m/d/x"
		atf_check -o match:"^user:$B:r--" getfacl -pc "$SRC/d/x"
		atf_check as_user "$A" setfacl -x "u:$B" "$m/d/x"
		atf_check -o not-match:"^user:$B" getfacl -pc "$SRC/d/x"
		atf_check as_user "$A" setfacl -d -m "u:$B:r--" "$m/d"
		atf_check -o match:"^default:user:$B:r--" getfacl -pc "$SRC/d"
		atf_check as_user "$A" setfacl -k "$m/d"
		atf_check -o not-match:"^default:" getfacl -pc "$SRC/d"
		# Removing what is not there succeeds, as natively.
		atf_check as_user "$A" setfacl -k "$m/d"
		atf_check as_user "$A" setfacl -k "$SRC/d"
	done
}

atf_init_test_cases()
{
	for c in $ACL_CASES; do
		atf_add_test_case "${c}_tmpfs"
		atf_add_test_case "${c}_ext4"
	done
}
