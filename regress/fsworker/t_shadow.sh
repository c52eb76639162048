# fsshadow through the mount, once per configuration: random reads,
# writes, truncates, fallocates and mmap accesses compared with a copy
# in memory, then the backing file compared with what the mount shows.
# SHADOW_CONFIGS lists the mount options to run under, "-" for none;
# add a configuration there (e.g. once passthrough lands) and it runs.
# The Kyua configuration variable shadow_ops sets the operations per
# configuration: kyua -v test_suites.fsmonitor.shadow_ops=1000000 ...

. "$(atf_get_srcdir)/../fsmonitor/common.sh"

SHADOW_CONFIGS=${SHADOW_CONFIGS:-"- cache=never cache=always writeback threads=4 \
nopassthrough passthrough"}
FSSHADOW="$(atf_get_srcdir)/fsshadow"

shadow_run()
{
	ops=$(atf_config_get shadow_ops 20000)
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	if [ "$1" = - ]; then
		atf_check fsctl mount "$w/s" "$w/m"
	else
		atf_check fsctl mount -o "$1" "$w/s" "$w/m"
	fi
	# A seed per run, printed, so a failure can be replayed.
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	atf_check -o match:"$ops operations in" \
	    timeout 3600 "$FSSHADOW" -n "$ops" -s "$seed" "$w/m/f"
	atf_check cmp "$w/m/f" "$w/s/f"
	atf_check fsctl unmount "$w/m"
	if fsm_log | grep -q "fatal\|reply_sent\|stale node"; then
		fsm_log
		atf_fail "the worker complained"
	fi
}

atf_init_test_cases()
{
	for c in $SHADOW_CONFIGS; do
		n=$(echo "$c" | tr -c 'a-z0-9\n' _)
		[ "$c" = - ] && n=default
		eval "
atf_test_case shadow_$n cleanup
shadow_${n}_head()
{
	atf_set descr \"fsshadow, 20000 operations or shadow_ops, options: $c\"
	atf_set require.user root
}
shadow_${n}_body()
{
	shadow_run '$c'
}
shadow_${n}_cleanup()
{
	fsm_cleanup
}"
		atf_add_test_case "shadow_$n"
	done
}
