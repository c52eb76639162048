# The manual pages: mandoc -T lint has nothing to say, and every option
# in each program's usage message is described in its page.

TOP=$(cd "$(atf_get_srcdir)/../.." && pwd)

atf_test_case lint
lint_head()
{
	atf_set descr "mandoc -T lint is clean on every page"
	atf_set require.progs mandoc
}
lint_body()
{
	for page in "$TOP"/man/*.[358]; do
		atf_check mandoc -T lint -W warning "$page"
	done
}

# man_check PAGE USAGE: each -X of USAGE is described after the
# SYNOPSIS of PAGE, as ".It Fl X", or for fsctl's commands as
# ".It Cm word Op Fl X" or ".Op Fl X" in an ".It Xo" head.
man_check()
{
	page=$TOP/man/$1
	opts=$(printf '%s\n' "$2" | grep -o -- '-[A-Za-z]\+' |
	    sed 's/^-//' | fold -w1 | sort -u)
	[ -n "$opts" ] || atf_fail "no options in: $2"
	for o in $opts; do
		sed -n '/^\.Sh DESCRIPTION/,$p' "$page" |
		    grep -Eq "^\.(It (Cm [a-z]+ (Op )?)?|Op )Fl $o( |$)" ||
		    atf_fail "$1: -$o of the usage is not described"
	done
}

# man_usage PROGRAM...: its usage message, from a bad option.
man_usage()
{
	"$@" -@ 2>&1 | grep -v "invalid option"
}

atf_test_case options
options_head()
{
	atf_set descr "Every option of every usage message is in its page"
}
options_body()
{
	man_check fsmonitor.8 "$(man_usage "$TOP/fsmonitor/fsmonitor")"
	man_check fsmount.8 "$(man_usage "$TOP/fsmount/fsmount")"
	man_check fsworker.8 "$(man_usage "$TOP/fsworker/fsworker")"
	man_check fsctl.8 "$(man_usage "$TOP/fsctl/fsctl")"
	ln -s "$TOP/fsctl/fsctl" mount.fuse.fsmonitor
	man_check mount.fuse.fsmonitor.8 "$(./mount.fuse.fsmonitor 2>&1)"
}

atf_init_test_cases()
{
	atf_add_test_case lint
	atf_add_test_case options
}
