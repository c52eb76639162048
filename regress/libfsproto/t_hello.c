/*
 * libfsproto hello, version negotiation and replies.
 */

#include <sys/types.h>

#include <atf-c.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "util.h"

static void	 mkmsg(struct fsproto_msg *, uint32_t, const void *, size_t);
static void	 mkhello(struct fsproto_msg *, uint32_t, uint32_t, uint32_t,
		    uint32_t);
static void	 mkreply(struct fsproto_msg *, uint32_t, uint32_t,
		    const void *, size_t);
static void	 require_hello_bad(struct fsproto_msg *);
static void	 require_reply_bad(struct fsproto_msg *);

static void
mkmsg(struct fsproto_msg *msg, uint32_t type, const void *p, size_t len)
{
	memset(msg, 0, sizeof(*msg));
	msg->hdr.type = type;
	msg->hdr.len = FSPROTO_HDR_SIZE + len;
	msg->fd = -1;
	msg->len = len;
	if (len > 0) {
		ATF_REQUIRE((msg->data = malloc(len)) != NULL);
		memcpy(msg->data, p, len);
	}
}

static void
mkhello(struct fsproto_msg *msg, uint32_t type, uint32_t magic,
    uint32_t min, uint32_t max)
{
	uint32_t	 w[3];

	w[0] = magic;
	w[1] = min;
	w[2] = max;
	mkmsg(msg, type, w, sizeof(w));
}

static void
mkreply(struct fsproto_msg *msg, uint32_t type, uint32_t err,
    const void *text, size_t len)
{
	unsigned char	*p;

	ATF_REQUIRE((p = malloc(4 + len)) != NULL);
	memcpy(p, &err, 4);
	if (len > 0)
		memcpy(p + 4, text, len);
	mkmsg(msg, type, p, 4 + len);
	free(p);
}

ATF_TC_WITHOUT_HEAD(hello_roundtrip);
ATF_TC_BODY(hello_roundtrip, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	uint32_t		 min, max, raw[3];
	int			 sv[2];

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	REQUIRE_INT(0, fsproto_hello_send(&w, 1, 3));
	REQUIRE_INT(0, fsproto_hello_send(&w, FSPROTO_VERSION_MIN,
	    FSPROTO_VERSION_MAX));

	pump_frame(&w, &r, &msg);
	REQUIRE_INT(FSPROTO_HELLO, msg.hdr.type);
	REQUIRE_INT(12, msg.len);
	REQUIRE_INT(getpid(), msg.hdr.pid);
	memcpy(raw, msg.data, sizeof(raw));
	REQUIRE_INT(FSPROTO_MAGIC, raw[0]);
	REQUIRE_INT(1, raw[1]);
	REQUIRE_INT(3, raw[2]);
	min = max = 0;
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	REQUIRE_INT(1, min);
	REQUIRE_INT(3, max);
	fsproto_msg_free(&msg);

	pump_frame(&w, &r, &msg);
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	REQUIRE_INT(FSPROTO_VERSION_MIN, min);
	REQUIRE_INT(FSPROTO_VERSION_MAX, max);
	fsproto_msg_free(&msg);
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static void
require_hello_bad(struct fsproto_msg *msg)
{
	uint32_t	 min, max;

	errno = 0;
	ATF_REQUIRE_MSG(fsproto_hello_recv(msg, &min, &max) == -1 &&
	    errno == EBADMSG, "hello (type %u, %zu bytes) accepted "
	    "(errno %d)", msg->hdr.type, msg->len, errno);
	fsproto_msg_free(msg);
}

ATF_TC_WITHOUT_HEAD(hello_recv_bad);
ATF_TC_BODY(hello_recv_bad, tc)
{
	struct fsproto_msg	 msg;
	uint32_t		 w[4], min, max;

	/* The good one, to show the bad ones fail for their fault. */
	mkhello(&msg, FSPROTO_HELLO, FSPROTO_MAGIC, 2, 2);
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	REQUIRE_INT(2, min);
	REQUIRE_INT(2, max);
	fsproto_msg_free(&msg);
	mkhello(&msg, FSPROTO_HELLO, FSPROTO_MAGIC, 0, 0xffffffffU);
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	fsproto_msg_free(&msg);

	mkhello(&msg, FSPROTO_REPLY, FSPROTO_MAGIC, 1, 1);
	require_hello_bad(&msg);
	mkhello(&msg, FSPROTO_TYPE_FIRST, FSPROTO_MAGIC, 1, 1);
	require_hello_bad(&msg);
	mkhello(&msg, FSPROTO_HELLO, 0x6f6d7366U, 1, 1);	/* swapped */
	require_hello_bad(&msg);
	mkhello(&msg, FSPROTO_HELLO, 0, 1, 1);
	require_hello_bad(&msg);
	mkhello(&msg, FSPROTO_HELLO, FSPROTO_MAGIC, 3, 2);
	require_hello_bad(&msg);
	mkhello(&msg, FSPROTO_HELLO, FSPROTO_MAGIC, 0xffffffffU, 0);
	require_hello_bad(&msg);

	w[0] = FSPROTO_MAGIC;
	w[1] = 1;
	w[2] = 1;
	w[3] = 0;
	mkmsg(&msg, FSPROTO_HELLO, NULL, 0);
	require_hello_bad(&msg);
	mkmsg(&msg, FSPROTO_HELLO, w, 8);
	require_hello_bad(&msg);
	mkmsg(&msg, FSPROTO_HELLO, w, 11);
	require_hello_bad(&msg);
	mkmsg(&msg, FSPROTO_HELLO, w, 13);
	require_hello_bad(&msg);
	mkmsg(&msg, FSPROTO_HELLO, w, 16);
	require_hello_bad(&msg);
}

ATF_TC_WITHOUT_HEAD(version_pick);
ATF_TC_BODY(version_pick, tc)
{
	uint32_t	 v;

	v = 0;
	REQUIRE_INT(0, fsproto_version_pick(1, 1, 1, 1, &v));
	REQUIRE_INT(1, v);
	REQUIRE_INT(0, fsproto_version_pick(1, 3, 2, 5, &v));
	REQUIRE_INT(3, v);
	REQUIRE_INT(0, fsproto_version_pick(2, 5, 1, 3, &v));
	REQUIRE_INT(3, v);
	REQUIRE_INT(0, fsproto_version_pick(1, 5, 5, 9, &v));
	REQUIRE_INT(5, v);
	REQUIRE_INT(0, fsproto_version_pick(1, 9, 4, 6, &v));
	REQUIRE_INT(6, v);
	REQUIRE_INT(0, fsproto_version_pick(4, 6, 1, 9, &v));
	REQUIRE_INT(6, v);
	REQUIRE_INT(0, fsproto_version_pick(0, 0xffffffffU, 0, 0xffffffffU,
	    &v));
	REQUIRE_INT(0xffffffffU, v);
	REQUIRE_FAIL(EPROTONOSUPPORT, fsproto_version_pick(1, 2, 3, 4, &v));
	REQUIRE_FAIL(EPROTONOSUPPORT, fsproto_version_pick(3, 4, 1, 2, &v));
	REQUIRE_FAIL(EPROTONOSUPPORT, fsproto_version_pick(5, 5, 4, 4, &v));
}

/* The whole exchange, as a client and a server would run it. */
ATF_TC_WITHOUT_HEAD(hello_negotiate);
ATF_TC_BODY(hello_negotiate, tc)
{
	struct fsproto_chan	 c, s;
	struct fsproto_msg	 msg;
	const char		*text;
	uint32_t		 min, max, v;
	int			 sv[2], err;

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&c, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&s, sv[1], 0, 0));

	REQUIRE_INT(0, fsproto_hello_send(&c, 2, 7));
	pump_frame(&c, &s, &msg);
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	fsproto_msg_free(&msg);
	REQUIRE_INT(0, fsproto_version_pick(1, 4, min, max, &v));
	REQUIRE_INT(4, v);
	REQUIRE_INT(0, fsproto_hello_send(&s, v, v));
	pump_frame(&s, &c, &msg);
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	REQUIRE_INT(4, min);
	REQUIRE_INT(4, max);
	fsproto_msg_free(&msg);

	/* No common version: the server answers with a reply. */
	REQUIRE_INT(0, fsproto_hello_send(&c, 8, 9));
	pump_frame(&c, &s, &msg);
	REQUIRE_INT(0, fsproto_hello_recv(&msg, &min, &max));
	fsproto_msg_free(&msg);
	REQUIRE_FAIL(EPROTONOSUPPORT, fsproto_version_pick(1, 4, min, max,
	    &v));
	REQUIRE_INT(0, fsproto_reply(&s, 0, EPROTONOSUPPORT,
	    "versions %u-%u not supported", min, max));
	pump_frame(&s, &c, &msg);
	REQUIRE_INT(0, fsproto_reply_recv(&msg, &err, &text));
	REQUIRE_INT(EPROTONOSUPPORT, err);
	ATF_REQUIRE_STREQ("versions 8-9 not supported", text);
	fsproto_msg_free(&msg);
	fsproto_chan_clear(&c);
	fsproto_chan_clear(&s);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(reply_roundtrip);
ATF_TC_BODY(reply_roundtrip, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	const char		*text;
	uint32_t		 raw;
	int			 sv[2], err;

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	REQUIRE_INT(0, fsproto_reply(&w, 7, ENOENT, "no such %s: %d",
	    "thing", 42));
	REQUIRE_INT(0, fsproto_reply(&w, 8, 0, "%s", ""));
	REQUIRE_INT(0, fsproto_reply(&w, 9, 4095, "last"));

	pump_frame(&w, &r, &msg);
	REQUIRE_INT(FSPROTO_REPLY, msg.hdr.type);
	REQUIRE_INT(7, msg.hdr.peerid);
	REQUIRE_INT(4 + strlen("no such thing: 42") + 1, msg.len);
	memcpy(&raw, msg.data, 4);
	REQUIRE_INT(ENOENT, raw);
	err = -1;
	text = NULL;
	REQUIRE_INT(0, fsproto_reply_recv(&msg, &err, &text));
	REQUIRE_INT(ENOENT, err);
	ATF_REQUIRE_STREQ("no such thing: 42", text);
	fsproto_msg_free(&msg);

	pump_frame(&w, &r, &msg);
	REQUIRE_INT(8, msg.hdr.peerid);
	REQUIRE_INT(5, msg.len);
	REQUIRE_INT(0, fsproto_reply_recv(&msg, &err, &text));
	REQUIRE_INT(0, err);
	ATF_REQUIRE_STREQ("", text);
	fsproto_msg_free(&msg);

	pump_frame(&w, &r, &msg);
	REQUIRE_INT(0, fsproto_reply_recv(&msg, &err, &text));
	REQUIRE_INT(4095, err);
	ATF_REQUIRE_STREQ("last", text);
	fsproto_msg_free(&msg);

	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* A message too long to send is cut, not sent whole or refused. */
ATF_TC_WITHOUT_HEAD(reply_long_message);
ATF_TC_BODY(reply_long_message, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	const char		*text;
	char			 longs[2 * FSPROTO_REPLY_MAXMSG];
	int			 sv[2], err;

	memset(longs, 'e', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	REQUIRE_INT(0, fsproto_reply(&w, 1, EINVAL, "%s", longs));
	pump_frame(&w, &r, &msg);
	ATF_REQUIRE(msg.len <= 4 + FSPROTO_REPLY_MAXMSG + 1);
	REQUIRE_INT(0, fsproto_reply_recv(&msg, &err, &text));
	REQUIRE_INT(EINVAL, err);
	ATF_REQUIRE(strlen(text) > 0 && strlen(text) <= FSPROTO_REPLY_MAXMSG);
	ATF_REQUIRE(strncmp(text, longs, strlen(text)) == 0);
	fsproto_msg_free(&msg);
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static void
require_reply_bad(struct fsproto_msg *msg)
{
	const char	*text;
	int		 err;

	errno = 0;
	ATF_REQUIRE_MSG(fsproto_reply_recv(msg, &err, &text) == -1 &&
	    errno == EBADMSG, "reply (type %u, %zu bytes) accepted "
	    "(errno %d)", msg->hdr.type, msg->len, errno);
	fsproto_msg_free(msg);
}

ATF_TC_WITHOUT_HEAD(reply_recv_bad);
ATF_TC_BODY(reply_recv_bad, tc)
{
	struct fsproto_msg	 msg;
	const char		*text;
	char			 longs[FSPROTO_REPLY_MAXMSG + 2];
	uint32_t		 e = 0;
	int			 err;

	/* The limits themselves are accepted. */
	memset(longs, 'm', sizeof(longs));
	longs[FSPROTO_REPLY_MAXMSG] = '\0';
	mkreply(&msg, FSPROTO_REPLY, 4095, longs, FSPROTO_REPLY_MAXMSG + 1);
	REQUIRE_INT(0, fsproto_reply_recv(&msg, &err, &text));
	REQUIRE_INT(4095, err);
	REQUIRE_INT(FSPROTO_REPLY_MAXMSG, strlen(text));
	fsproto_msg_free(&msg);

	/* Wrong type. */
	mkreply(&msg, FSPROTO_HELLO, 0, "ok", 3);
	require_reply_bad(&msg);
	mkreply(&msg, FSPROTO_TYPE_FIRST, 0, "ok", 3);
	require_reply_bad(&msg);
	/* Too short for the errno, or no message at all. */
	mkmsg(&msg, FSPROTO_REPLY, NULL, 0);
	require_reply_bad(&msg);
	mkmsg(&msg, FSPROTO_REPLY, &e, 3);
	require_reply_bad(&msg);
	mkreply(&msg, FSPROTO_REPLY, 0, NULL, 0);
	require_reply_bad(&msg);
	/* Unterminated, NUL inside, trailing bytes. */
	mkreply(&msg, FSPROTO_REPLY, 0, "abc", 3);
	require_reply_bad(&msg);
	mkreply(&msg, FSPROTO_REPLY, 0, "ab\0cd", 6);
	require_reply_bad(&msg);
	mkreply(&msg, FSPROTO_REPLY, 0, "ab\0\0", 4);
	require_reply_bad(&msg);
	/* One character too long. */
	memset(longs, 'm', sizeof(longs));
	longs[FSPROTO_REPLY_MAXMSG + 1] = '\0';
	mkreply(&msg, FSPROTO_REPLY, 0, longs, FSPROTO_REPLY_MAXMSG + 2);
	require_reply_bad(&msg);
	/* errno out of 0..4095. */
	mkreply(&msg, FSPROTO_REPLY, 4096, "x", 2);
	require_reply_bad(&msg);
	mkreply(&msg, FSPROTO_REPLY, 0xffffffffU, "x", 2);
	require_reply_bad(&msg);
	mkreply(&msg, FSPROTO_REPLY, 0x80000000U, "x", 2);
	require_reply_bad(&msg);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, hello_roundtrip);
	ATF_TP_ADD_TC(tp, hello_recv_bad);
	ATF_TP_ADD_TC(tp, version_pick);
	ATF_TP_ADD_TC(tp, hello_negotiate);
	ATF_TP_ADD_TC(tp, reply_roundtrip);
	ATF_TP_ADD_TC(tp, reply_long_message);
	ATF_TP_ADD_TC(tp, reply_recv_bad);

	return (atf_no_error());
}
