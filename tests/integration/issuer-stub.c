/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in, for test programs only, for the issuer core's helpers that issuer.h declares
 * (issuer_read_secret(), issuer_http_do() and the rest), so that the github_app kind can
 * be run against the test servers before the core's implementation (branch issuers) is
 * merged. It keeps the contract of issuer.h: TLS always verified, the CA file alone when
 * given, timeouts, a bounded response, one line per failure. Replace with the core's own
 * once it lands.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "issuer.h"

int issuer_read_secret(const char *path, const char *what, size_t max, struct secure_buf *ret,
		       char *err, size_t errlen)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s '%s': not a root-owned file unreadable by others", what,
			 path);
		return -EPERM;
	}
	r = secure_buf_alloc(ret, max + 1, true);
	if (r < 0)
		return r;
	n = read(fd, ret->data, max + 1);
	if (n < 0 || (size_t)n > max) {
		snprintf(err, errlen, "%s '%s': %s", what, path,
			 n < 0 ? strerror(errno) : "too large");
		secure_buf_free(ret);
		return n < 0 ? -errno : -E2BIG;
	}
	ret->len = (size_t)n;
	return 0;
}

struct sink {
	struct issuer_http_response *resp;
	size_t max;
	bool too_big;
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	struct secure_buf *b = &s->resp->body;
	size_t n = size * nmemb;

	if (b->len + n > s->max) {
		s->too_big = true;
		return 0;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

int issuer_http_do(const struct issuer_http_request *rq, struct issuer_http_response *ret,
		   char *err, size_t errlen)
{
	struct sink s = { .resp = ret, .max = rq->common->max_response };
	struct curl_slist *hl = NULL;
	CURL *c = curl_easy_init();
	CURLcode cr;
	int r;

	*ret = (struct issuer_http_response){};
	r = secure_buf_alloc(&ret->body, s.max + 1, true);
	if (!c || r < 0) {
		curl_easy_cleanup(c);
		return -ENOMEM;
	}
	for (size_t i = 0; rq->headers && rq->headers[i]; i++)
		hl = curl_slist_append(hl, rq->headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "airlock");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	if (rq->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)rq->body_len);
	}
	if (rq->common->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->common->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)rq->common->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rq->common->timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (s.too_big || cr != CURLE_OK) {
		if (s.too_big)
			snprintf(err, errlen, "response larger than %zu bytes", s.max);
		else
			snprintf(err, errlen, "curl: %s", curl_easy_strerror(cr));
		issuer_http_response_done(ret);
		return s.too_big ? -EFBIG : -EIO;
	}
	return 0;
}

void issuer_http_response_done(struct issuer_http_response *r)
{
	secure_buf_free(&r->body);
}

int issuer_http_status_error(const struct issuer_http_request *rq, long status, char *err,
			     size_t errlen)
{
	snprintf(err, errlen, "HTTP %ld from %.*s", status, (int)strcspn(rq->url, "?"), rq->url);
	return -EPROTO;
}

int issuer_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}
