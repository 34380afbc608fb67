#include <curl/curl.h>

/* curl_easy_setopt is variadic, which Swift cannot call: typed wrappers, one per argument kind. */
static inline CURLcode drctl_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode drctl_curl_setopt_write_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}
static inline CURLcode drctl_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode drctl_curl_setopt_header_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}
static inline CURLcode drctl_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(handle, option, list);
}
/* The progress callback libcurl calls about once a second, also while no data flows:
   returning non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK). */
static inline CURLcode drctl_curl_setopt_xferinfo(CURL *handle, int (*callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t), void *data) {
    curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
    curl_easy_setopt(handle, CURLOPT_XFERINFODATA, data);
    return curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
}
