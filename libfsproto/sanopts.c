/*
 * Defaults for the sanitizer runtimes in SANITIZE=1 builds, linked into
 * every program: the daemons start their children with an empty
 * environment, so ASAN_OPTIONS cannot carry these.  Leaks are left to
 * the valgrind runs: LeakSanitizer needs /proc and ptrace, which the
 * chroots, namespaces and seccomp filters take away on purpose.
 */

const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return ("detect_leaks=0:abort_on_error=1:print_stacktrace=1");
}

const char *
__ubsan_default_options(void)
{
	return ("print_stacktrace=1:halt_on_error=1");
}
