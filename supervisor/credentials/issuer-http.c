/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The issuers' one HTTP client, over libcurl: HTTPS only, the peer and its name always
 * verified (against the issuer's CA file, or the system's CAs), bounded in time and in the
 * size of what it reads, which lands in secure memory (a response may carry a token). The
 * copies on the way there are cleared: libcurl's receive buffer once each piece is copied
 * (on_data()), OpenSSL's record buffers once read (SSL_OP_CLEANSE_PLAINTEXT). The only
 * file of airlock that includes curl.h; CURLcode becomes one line of text here.
 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "issuer.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all)

struct sink {
	struct secure_buf *buf;
	size_t max;
	bool overflow;
};

/* Whether libcurl's TLS is OpenSSL's, whose SSL_CTX the option callback may touch. */
static bool tls_is_openssl;
/* The batch's cancel flag (issuer_http_cancel_on()), read by every request's thread. */
static const int *cancel_flag;

int issuer_http_init(void)
{
	const curl_version_info_data *v;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	v = curl_version_info(CURLVERSION_NOW);
	tls_is_openssl = v && v->ssl_version && strneq(v->ssl_version, "OpenSSL/", 8);
	return 0;
}

/*
 * OpenSSL decrypts a record in place, in a buffer of its own it frees without clearing:
 * with SSL_OP_CLEANSE_PLAINTEXT (OpenSSL 3.0) it clears each record once it has been read.
 */
#ifdef SSL_OP_CLEANSE_PLAINTEXT
static CURLcode on_ssl_ctx(CURL *h, void *ssl_ctx, void *userdata)
{
	SSL_CTX_set_options(ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
	return CURLE_OK;
}
#endif

void issuer_http_cancel_on(const int *flag)
{
	__atomic_store_n(&cancel_flag, flag, __ATOMIC_RELEASE);
}

/* libcurl calls it about once a second while it waits, more often while data flows. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const int *flag = __atomic_load_n(&cancel_flag, __ATOMIC_ACQUIRE);

	return flag && __atomic_load_n(flag, __ATOMIC_RELAXED) ? 1 : 0; /* 1: abort */
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (n > s->max - s->buf->len) {
		s->overflow = true;
		explicit_bzero(data, n);
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	memcpy(s->buf->data + s->buf->len, data, n);
	s->buf->len += n;
	/*
	 * data is libcurl's receive buffer, which it frees without clearing: the response
	 * may carry a token. curl is done with these bytes once they are delivered.
	 */
	explicit_bzero(data, n);
	return n;
}

/* The URL up to its query or fragment, for an error line: a query may carry a secret. */
static void url_for_error(const char *url, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(url, "?#"), url);
}

int issuer_http_status_error(const struct issuer_http_request *rq, long status, char *err,
			     size_t errlen)
{
	char url[256];

	url_for_error(rq->url_shown ?: rq->url, url, sizeof(url));
	snprintf(err, errlen, "HTTP %ld from %s %s", status, rq->method, url);
	return -EPROTO;
}

static int curl_error(const struct issuer_http_request *rq, CURLcode c, const char *detail,
		      char *err, size_t errlen)
{
	char url[256];

	url_for_error(rq->url_shown ?: rq->url, url, sizeof(url));
	if (c == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(err, errlen, "%s %s: interrupted", rq->method, url);
		return -ECANCELED;
	}
	snprintf(err, errlen, "%s %s: curl: %s%s%s", rq->method, url, curl_easy_strerror(c),
		 detail[0] ? ": " : "", detail);
	/* Keep it one line: curl's detail may hold one. */
	for (char *p = err; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (c == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	if (c == CURLE_COULDNT_CONNECT)
		return -ECONNREFUSED;
	if (c == CURLE_COULDNT_RESOLVE_HOST)
		return -EHOSTUNREACH;
	return -EIO;
}

static int set_options(CURL *h, const struct issuer_http_request *rq, struct curl_slist *headers,
		       struct sink *s, char *errbuf)
{
	const struct issuer_common *c = rq->common;
	int ok = 0;

	ok |= curl_easy_setopt(h, CURLOPT_URL, rq->url);
	ok |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	ok |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	ok |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	ok |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	ok |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file) {
		ok |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		ok |= curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	ok |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	ok |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	ok |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
	ok |= curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* never the environment's proxy */
	ok |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	ok |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	ok |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	ok |= curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	ok |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	ok |= curl_easy_setopt(h, CURLOPT_USERAGENT, "airlock");
	ok |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	ok |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0 */
	/*
	 * A request cancelled (on_progress()) while its name is looked up ends now, its
	 * resolver thread left to end on its own: else libcurl waits for getaddrinfo(), the
	 * resolver's timeouts and attempts (20 s and more), deaf to the stop signal. A run
	 * whose mint was cancelled is refused: no sandbox is cloned beside that thread.
	 */
	ok |= curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L);
#endif
#ifdef SSL_OP_CLEANSE_PLAINTEXT /* OpenSSL 3.0 and later */
	if (tls_is_openssl)
		ok |= curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
#endif
	if (rq->body) {
		ok |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		ok |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	if (rq->basic_user) {
		ok |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		ok |= curl_easy_setopt(h, CURLOPT_USERNAME, rq->basic_user);
		ok |= curl_easy_setopt(h, CURLOPT_PASSWORD, rq->basic_password);
	}
	return ok == CURLE_OK ? 0 : -EINVAL;
}

int issuer_http_do(const struct issuer_http_request *rq, struct issuer_http_response *ret,
		   char *err, size_t errlen)
{
	_cleanup_(curl_easy_cleanupp) CURL *h = NULL;
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	struct issuer_http_response resp = {};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct sink s = { .buf = &resp.body, .max = rq->common->max_response };
	CURLcode c;
	int r;

	h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "out of memory for an HTTP request");
		return -ENOMEM;
	}
	for (const char *const *p = rq->headers; p && *p; p++) {
		struct curl_slist *n = curl_slist_append(headers, *p);

		if (!n) {
			snprintf(err, errlen, "out of memory for an HTTP request");
			return -ENOMEM;
		}
		headers = n;
	}
	r = secure_buf_alloc(&resp.body, s.max + 1, true);
	if (r < 0) {
		snprintf(err, errlen, "cannot allocate secure memory: %s", strerror(-r));
		return r;
	}
	r = set_options(h, rq, headers, &s, errbuf);
	if (r < 0) {
		secure_buf_free(&resp.body);
		snprintf(err, errlen, "libcurl refused an option (too old a libcurl?)");
		return r;
	}
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		secure_buf_free(&resp.body);
		if (s.overflow) {
			char url[256];

			/* Which request: a mint's, or a revocation's, of which endpoint. */
			url_for_error(rq->url_shown ?: rq->url, url, sizeof(url));
			snprintf(err, errlen, "response of %s %s larger than %zu bytes", rq->method,
				 url, s.max);
			return -EFBIG;
		}
		return curl_error(rq, c, errbuf, err, errlen);
	}
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
	resp.body.data[resp.body.len] = '\0';
	*ret = resp;
	return 0;
}

void issuer_http_response_done(struct issuer_http_response *r)
{
	secure_buf_free(&r->body);
}
