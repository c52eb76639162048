/*
 * libfsproto decoding helpers and payload builder: exact lengths,
 * strings terminated inside the payload, no trailing bytes, and a
 * decoder that stays failed once anything was wrong.
 */

#include <sys/types.h>

#include <atf-c.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "util.h"

static void	 mkmsg(struct fsproto_msg *, const void *, size_t);
static void	 require_str_bad(const void *, size_t, size_t);
static void	 require_dec_failed(struct fsproto_dec *);

/*
 * A message as fsproto_get leaves it: the payload in a buffer of exactly
 * its size, so that a helper reading past it trips ASan in SANITIZE
 * builds.
 */
static void
mkmsg(struct fsproto_msg *msg, const void *p, size_t len)
{
	memset(msg, 0, sizeof(*msg));
	msg->hdr.type = FSPROTO_TYPE_FIRST;
	msg->hdr.len = FSPROTO_HDR_SIZE + len;
	msg->fd = -1;
	msg->len = len;
	msg->data = NULL;
	if (len > 0) {
		ATF_REQUIRE((msg->data = malloc(len)) != NULL);
		memcpy(msg->data, p, len);
	}
}

ATF_TC_WITHOUT_HEAD(get_exact);
ATF_TC_BODY(get_exact, tc)
{
	struct fsproto_msg	 msg;
	uint64_t		 v, w;
	unsigned char		 big[16];

	v = 0x0102030405060708ULL;
	mkmsg(&msg, &v, sizeof(v));
	w = 0;
	REQUIRE_INT(0, fsproto_get_exact(&msg, &w, sizeof(w)));
	ATF_REQUIRE(w == v);
	REQUIRE_FAIL(EBADMSG, fsproto_get_exact(&msg, big, 7));
	REQUIRE_FAIL(EBADMSG, fsproto_get_exact(&msg, big, 9));
	REQUIRE_FAIL(EBADMSG, fsproto_get_exact(&msg, big, 0));
	REQUIRE_FAIL(EBADMSG, fsproto_get_exact(&msg, big, 4));
	fsproto_msg_free(&msg);

	mkmsg(&msg, NULL, 0);
	REQUIRE_INT(0, fsproto_get_exact(&msg, big, 0));
	REQUIRE_FAIL(EBADMSG, fsproto_get_exact(&msg, big, 1));
	REQUIRE_FAIL(EBADMSG, fsproto_get_exact(&msg, big, sizeof(big)));
	fsproto_msg_free(&msg);
}

ATF_TC_WITHOUT_HEAD(get_str_good);
ATF_TC_BODY(get_str_good, tc)
{
	struct fsproto_msg	 msg;
	const char		*s;
	char			*longs;

	mkmsg(&msg, "hello", 6);
	s = NULL;
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 0));
	ATF_REQUIRE_STREQ("hello", s);
	/* The string points into the payload; it is not a copy. */
	ATF_REQUIRE(s == (const char *)msg.data);
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 5));
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 100));
	fsproto_msg_free(&msg);

	mkmsg(&msg, "", 1);
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 0));
	ATF_REQUIRE_STREQ("", s);
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 1));
	fsproto_msg_free(&msg);

	/* maxlen 0: only the payload bounds it. */
	ATF_REQUIRE((longs = malloc(FSPROTO_MAXPAYLOAD)) != NULL);
	memset(longs, 'x', FSPROTO_MAXPAYLOAD - 1);
	longs[FSPROTO_MAXPAYLOAD - 1] = '\0';
	mkmsg(&msg, longs, FSPROTO_MAXPAYLOAD);
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 0));
	REQUIRE_INT(FSPROTO_MAXPAYLOAD - 1, strlen(s));
	REQUIRE_FAIL(EBADMSG, fsproto_get_str(&msg, &s,
	    FSPROTO_MAXPAYLOAD - 2));
	fsproto_msg_free(&msg);
	free(longs);
}

static void
require_str_bad(const void *p, size_t len, size_t maxlen)
{
	struct fsproto_msg	 msg;
	const char		*s;

	mkmsg(&msg, p, len);
	errno = 0;
	ATF_REQUIRE_MSG(fsproto_get_str(&msg, &s, maxlen) == -1 &&
	    errno == EBADMSG, "payload of %zu bytes taken as a string "
	    "(maxlen %zu, errno %d)", len, maxlen, errno);
	fsproto_msg_free(&msg);
}

ATF_TC_WITHOUT_HEAD(get_str_bad);
ATF_TC_BODY(get_str_bad, tc)
{
	require_str_bad(NULL, 0, 0);			/* empty */
	require_str_bad("abc", 3, 0);			/* unterminated */
	require_str_bad("a", 1, 0);
	require_str_bad("ab\0c\0", 5, 0);		/* NUL inside */
	require_str_bad("ab\0\0", 4, 0);
	require_str_bad("\0\0", 2, 0);
	require_str_bad("ab\0c", 4, 0);			/* and unterminated */
	require_str_bad("hello", 6, 4);			/* too long */
	require_str_bad("hello", 6, 1);
}

/* The builder's bytes decode back to the same values, in host order. */
ATF_TC_WITHOUT_HEAD(dec_good);
ATF_TC_BODY(dec_good, tc)
{
	struct fsproto_buf	 b;
	struct fsproto_msg	 msg;
	struct fsproto_dec	 d;
	const char		*s1, *s2;
	uint32_t		 u32;
	uint64_t		 u64;
	unsigned char		 raw[3];

	fsproto_buf_init(&b, 100);
	REQUIRE_INT(0, fsproto_buf_u32(&b, 0xa1b2c3d4U));
	REQUIRE_INT(0, fsproto_buf_u64(&b, 0x0102030405060708ULL));
	REQUIRE_INT(0, fsproto_buf_add(&b, "xyz", 3));
	REQUIRE_INT(0, fsproto_buf_add(&b, NULL, 0));
	REQUIRE_INT(0, fsproto_buf_str(&b, "name"));
	REQUIRE_INT(0, fsproto_buf_str(&b, ""));
	REQUIRE_INT(0, b.err);
	REQUIRE_INT(4 + 8 + 3 + 5 + 1, b.len);
	u32 = 0xa1b2c3d4U;
	ATF_REQUIRE(memcmp(b.data, &u32, 4) == 0);
	u64 = 0x0102030405060708ULL;
	ATF_REQUIRE(memcmp(b.data + 4, &u64, 8) == 0);
	ATF_REQUIRE(memcmp(b.data + 12, "xyzname\0", 9) == 0);
	mkmsg(&msg, b.data, b.len);
	fsproto_buf_free(&b);

	fsproto_dec_init(&d, &msg);
	u32 = 0;
	u64 = 0;
	REQUIRE_INT(0, fsproto_dec_u32(&d, &u32));
	REQUIRE_INT(0xa1b2c3d4U, u32);
	REQUIRE_INT(0, fsproto_dec_u64(&d, &u64));
	ATF_REQUIRE(u64 == 0x0102030405060708ULL);
	REQUIRE_INT(0, fsproto_dec_bytes(&d, raw, 3));
	ATF_REQUIRE(memcmp(raw, "xyz", 3) == 0);
	REQUIRE_INT(0, fsproto_dec_bytes(&d, raw, 0));
	REQUIRE_INT(0, fsproto_dec_str(&d, &s1, 4));
	ATF_REQUIRE_STREQ("name", s1);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s2, 0));
	ATF_REQUIRE_STREQ("", s2);
	REQUIRE_INT(0, fsproto_dec_end(&d));
	fsproto_msg_free(&msg);
}

/* Once failed, every later call fails too, however good the bytes. */
static void
require_dec_failed(struct fsproto_dec *d)
{
	const char	*s;
	uint32_t	 u32;
	uint64_t	 u64;
	unsigned char	 c;

	REQUIRE_FAIL(EBADMSG, fsproto_dec_u32(d, &u32));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_u64(d, &u64));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_bytes(d, &c, 1));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_bytes(d, &c, 0));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_str(d, &s, 0));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_end(d));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_end(d));
}

ATF_TC_WITHOUT_HEAD(dec_short);
ATF_TC_BODY(dec_short, tc)
{
	struct fsproto_msg	 msg;
	struct fsproto_dec	 d;
	unsigned char		 p[64], out[64];
	uint32_t		 u32;
	uint64_t		 u64;

	memset(p, 0x41, sizeof(p));
	p[sizeof(p) - 1] = '\0';

	mkmsg(&msg, p, 3);
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_u32(&d, &u32));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	mkmsg(&msg, p, 7);
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_u64(&d, &u64));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* Short after a good field: 12 bytes, u64 then u64. */
	mkmsg(&msg, p, 12);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_u64(&d, &u64));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_u64(&d, &u64));
	/* The 4 bytes still there do not revive it. */
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	mkmsg(&msg, p, 10);
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_bytes(&d, out, 11));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* Huge counts must not wrap around. */
	mkmsg(&msg, p, 10);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_bytes(&d, out, 2));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_bytes(&d, out, (size_t)-1));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* An empty payload has nothing to give but a clean end. */
	mkmsg(&msg, NULL, 0);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_bytes(&d, out, 0));
	REQUIRE_INT(0, fsproto_dec_end(&d));
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_u32(&d, &u32));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);
}

ATF_TC_WITHOUT_HEAD(dec_trailing);
ATF_TC_BODY(dec_trailing, tc)
{
	struct fsproto_msg	 msg;
	struct fsproto_dec	 d;
	unsigned char		 p[16];
	const char		*s;
	uint32_t		 u32;

	memset(p, 0, sizeof(p));
	mkmsg(&msg, p, 5);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_u32(&d, &u32));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_end(&d));
	fsproto_msg_free(&msg);

	/* Nothing read at all is all trailing. */
	mkmsg(&msg, p, 1);
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_end(&d));
	fsproto_msg_free(&msg);

	/* A string with a byte after its NUL. */
	mkmsg(&msg, "ab\0c", 4);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 0));
	ATF_REQUIRE_STREQ("ab", s);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_end(&d));
	fsproto_msg_free(&msg);
}

ATF_TC_WITHOUT_HEAD(dec_str_bad);
ATF_TC_BODY(dec_str_bad, tc)
{
	struct fsproto_msg	 msg;
	struct fsproto_dec	 d;
	unsigned char		 p[16];
	const char		*s;
	uint32_t		 u32;

	/* Unterminated. */
	mkmsg(&msg, "abc", 3);
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_str(&d, &s, 0));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* The only NUL is in a field already read, not in what is left. */
	memset(p, 0, 4);
	memcpy(p + 4, "abc", 3);
	mkmsg(&msg, p, 7);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_u32(&d, &u32));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_str(&d, &s, 0));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* Too long for maxlen; exactly maxlen is fine. */
	mkmsg(&msg, "hello\0hi", 9);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 5));
	ATF_REQUIRE_STREQ("hello", s);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_str(&d, &s, 1));
	require_dec_failed(&d);
	fsproto_dec_init(&d, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_dec_str(&d, &s, 4));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* Nothing left to read a string from. */
	mkmsg(&msg, "a", 2);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 0));
	REQUIRE_FAIL(EBADMSG, fsproto_dec_str(&d, &s, 0));
	require_dec_failed(&d);
	fsproto_msg_free(&msg);

	/* Several strings back to back decode one by one. */
	mkmsg(&msg, "ab\0\0cd", 7);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 0));
	ATF_REQUIRE_STREQ("ab", s);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 0));
	ATF_REQUIRE_STREQ("", s);
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 2));
	ATF_REQUIRE_STREQ("cd", s);
	REQUIRE_INT(0, fsproto_dec_end(&d));
	fsproto_msg_free(&msg);
}

/* The builder refuses to grow past its maximum, and remembers it. */
ATF_TC_WITHOUT_HEAD(buf_overflow);
ATF_TC_BODY(buf_overflow, tc)
{
	struct fsproto_buf	 b;
	unsigned char		 p[101];
	int			 i;

	memset(p, 0x55, sizeof(p));
	fsproto_buf_init(&b, 100);
	for (i = 0; i < 25; i++)
		REQUIRE_INT(0, fsproto_buf_u32(&b, i));
	REQUIRE_INT(100, b.len);
	REQUIRE_INT(0, b.err);
	REQUIRE_INT(-1, fsproto_buf_add(&b, p, 1));
	REQUIRE_INT(EMSGSIZE, b.err);
	REQUIRE_INT(100, b.len);
	fsproto_buf_free(&b);

	fsproto_buf_init(&b, 100);
	REQUIRE_INT(-1, fsproto_buf_add(&b, p, 101));
	REQUIRE_INT(EMSGSIZE, b.err);
	fsproto_buf_free(&b);

	fsproto_buf_init(&b, 10);
	REQUIRE_INT(0, fsproto_buf_u64(&b, 1));
	REQUIRE_INT(-1, fsproto_buf_u64(&b, 2));
	REQUIRE_INT(EMSGSIZE, b.err);
	/* A later piece that would fit does not clear the error. */
	(void)fsproto_buf_add(&b, p, 1);
	REQUIRE_INT(EMSGSIZE, b.err);
	fsproto_buf_free(&b);

	/* The string's NUL counts. */
	fsproto_buf_init(&b, 5);
	REQUIRE_INT(-1, fsproto_buf_str(&b, "hello"));
	REQUIRE_INT(EMSGSIZE, b.err);
	fsproto_buf_free(&b);
	fsproto_buf_init(&b, 6);
	REQUIRE_INT(0, fsproto_buf_str(&b, "hello"));
	REQUIRE_INT(6, b.len);
	ATF_REQUIRE(memcmp(b.data, "hello", 6) == 0);
	fsproto_buf_free(&b);

	fsproto_buf_init(&b, 3);
	REQUIRE_INT(-1, fsproto_buf_u32(&b, 1));
	REQUIRE_INT(EMSGSIZE, b.err);
	REQUIRE_INT(0, b.len);
	fsproto_buf_free(&b);
}

/* buf_send composes what was built, or refuses a failed build. */
ATF_TC_WITHOUT_HEAD(buf_send);
ATF_TC_BODY(buf_send, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_buf	 b;
	struct fsproto_msg	 msg;
	struct fsproto_dec	 d;
	const char		*s;
	uint32_t		 u32;
	uint64_t		 u64;
	int			 sv[2];

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));

	fsproto_buf_init(&b, FSPROTO_MAXPAYLOAD);
	fsproto_buf_u32(&b, 77);
	fsproto_buf_u64(&b, 1ULL << 40);
	fsproto_buf_str(&b, "/some/path");
	REQUIRE_INT(0, fsproto_buf_send(&w, 123, 456, -1, &b));
	REQUIRE_INT(1, fsproto_pending(&w));
	pump_frame(&w, &r, &msg);
	REQUIRE_INT(123, msg.hdr.type);
	REQUIRE_INT(456, msg.hdr.peerid);
	REQUIRE_INT(4 + 8 + 11, msg.len);
	fsproto_dec_init(&d, &msg);
	REQUIRE_INT(0, fsproto_dec_u32(&d, &u32));
	REQUIRE_INT(0, fsproto_dec_u64(&d, &u64));
	REQUIRE_INT(0, fsproto_dec_str(&d, &s, 0));
	REQUIRE_INT(0, fsproto_dec_end(&d));
	REQUIRE_INT(77, u32);
	ATF_REQUIRE(u64 == 1ULL << 40);
	ATF_REQUIRE_STREQ("/some/path", s);
	fsproto_msg_free(&msg);

	/* An empty buffer is an empty frame. */
	fsproto_buf_init(&b, 10);
	REQUIRE_INT(0, fsproto_buf_send(&w, 124, 0, -1, &b));
	pump_frame(&w, &r, &msg);
	REQUIRE_INT(124, msg.hdr.type);
	REQUIRE_INT(0, msg.len);
	ATF_REQUIRE(msg.data == NULL);
	fsproto_msg_free(&msg);

	fsproto_buf_init(&b, 4);
	fsproto_buf_u64(&b, 1);
	fsproto_buf_u32(&b, 1);
	REQUIRE_FAIL(EMSGSIZE, fsproto_buf_send(&w, 125, 0, -1, &b));
	REQUIRE_INT(0, fsproto_pending(&w));

	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* get_str on a frame that really came through a channel. */
ATF_TC_WITHOUT_HEAD(get_str_received);
ATF_TC_BODY(get_str_received, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	const char		*s;
	int			 sv[2];

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	REQUIRE_INT(0, fsproto_compose(&w, 130, 0, -1, "mnt", 4));
	REQUIRE_INT(0, fsproto_compose(&w, 131, 0, -1, "mnt", 3));
	pump_frame(&w, &r, &msg);
	REQUIRE_INT(0, fsproto_get_str(&msg, &s, 3));
	ATF_REQUIRE_STREQ("mnt", s);
	fsproto_msg_free(&msg);
	pump_frame(&w, &r, &msg);
	REQUIRE_FAIL(EBADMSG, fsproto_get_str(&msg, &s, 0));
	fsproto_msg_free(&msg);
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, get_exact);
	ATF_TP_ADD_TC(tp, get_str_good);
	ATF_TP_ADD_TC(tp, get_str_bad);
	ATF_TP_ADD_TC(tp, get_str_received);
	ATF_TP_ADD_TC(tp, dec_good);
	ATF_TP_ADD_TC(tp, dec_short);
	ATF_TP_ADD_TC(tp, dec_trailing);
	ATF_TP_ADD_TC(tp, dec_str_bad);
	ATF_TP_ADD_TC(tp, buf_overflow);
	ATF_TP_ADD_TC(tp, buf_send);

	return (atf_no_error());
}
