// libcurl 7.88 (Debian 12). curl_easy_setopt/getinfo are variadic, which Swift cannot call:
// these typed wrappers are the only additions.
#include <curl/curl.h>

typedef size_t (*sb_curl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode sb_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sb_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sb_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sb_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sb_curl_setopt_write_callback(CURL *h, CURLoption o, sb_curl_write_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sb_curl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sb_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
