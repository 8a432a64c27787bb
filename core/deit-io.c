/* deit-io.c - reading what a checkpoint directory holds, with bounds: small text files
 * (config.json, preprocessor_config.json, labels), the weight file's bytes, and JSON.
 *
 * A checkpoint directory is untrusted input. Every file is opened with O_NONBLOCK and
 * checked to be a regular file with fstat() before a byte is read, so a FIFO or a device
 * (/dev/zero) named config.json is refused instead of blocking or filling memory. Text
 * files have a size limit stated in the error. JSON is parsed by json-glib, whose parser
 * recurses once per nesting level: text nested deeper than DEIT_JSON_MAX_DEPTH is refused
 * by a linear pre-scan before json-glib sees it (real configs nest 3 levels).
 */
#include "deit-io.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------
 * errors and messages
 */
void deit_error_clear(struct deit_error *err) {
    if (!err) return;
    err->status     = DEIT_STATUS_OK;
    err->message[0] = '\0';
}

void deit_error_prefix(struct deit_error *err, const char *prefix) {
    if (!err || err->status == DEIT_STATUS_OK) return;
    char tmp[sizeof err->message];
    g_strlcpy(tmp, err->message, sizeof tmp);
    g_snprintf(err->message, sizeof err->message, "%s: %s", prefix, tmp);
}

void deit_format_shape(char *buf, size_t n, const int64_t *shape, int n_dims) {
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < n_dims && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

/* ---------------------------------------------------------------------------------------
 * files
 */

/* open path for reading without blocking on a FIFO, and check that it is a regular file */
static enum deit_status open_regular(const char *path, const char *what, int *fd_out, size_t *size,
                                     struct deit_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return deit_set_error(err, e == ENOENT ? DEIT_STATUS_ERROR_NOT_FOUND : DEIT_STATUS_ERROR_IO,
                              "cannot open %s (%s): %s", path, what, g_strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return deit_set_error(err, DEIT_STATUS_ERROR_IO,
                              "%s is not a regular file (a FIFO, device or directory?); the %s must be a plain file",
                              path, what);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return deit_set_error(err, DEIT_STATUS_ERROR_IO, "%s is too large for this machine", path);
    }
    /* a regular file never blocks; reads then behave as usual */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    *fd_out = fd;
    *size   = (size_t)st.st_size;
    return DEIT_STATUS_OK;
}

/* read exactly size bytes (a file that shrinks meanwhile is an error, not a short result) */
static enum deit_status read_all(int fd, void *buf, size_t size, const char *what, const char *path,
                                 struct deit_error *err) {
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, (uint8_t *)buf + done, size - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            return deit_set_error(err, DEIT_STATUS_ERROR_IO, "short read on %s (%s) at byte %zu of %zu: %s", path,
                                  what, done, size, e ? g_strerror(e) : "unexpected end of file");
        }
        done += (size_t)r;
    }
    return DEIT_STATUS_OK;
}

enum deit_status deit_read_text_file(const char *path, const char *what, size_t max_bytes, char **text, size_t *len,
                                     struct deit_error *err) {
    *text = NULL;
    *len  = 0;
    int    fd   = -1;
    size_t size = 0;
    enum deit_status st = open_regular(path, what, &fd, &size, err);
    if (st != DEIT_STATUS_OK) return st;
    if (size > max_bytes) {
        close(fd);
        return deit_set_error(err, DEIT_STATUS_ERROR_BAD_CONFIG,
                              "%s is %zu bytes, more than the %zu-byte limit for a %s; it is not one from the "
                              "Hugging Face Hub",
                              path, size, max_bytes, what);
    }
    char *buf = g_try_malloc(size + 1);
    if (!buf) {
        close(fd);
        return deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY, "cannot allocate %zu bytes to read %s", size, path);
    }
    st = read_all(fd, buf, size, what, path, err);
    close(fd);
    if (st != DEIT_STATUS_OK) {
        g_free(buf);
        return st;
    }
    buf[size] = '\0';
    *text     = buf;
    *len      = size;
    return DEIT_STATUS_OK;
}

/* File systems whose files can change or vanish under a mapping without any local process
 * doing it (network, cluster and FUSE file systems: statfs(2) f_type magics, linux/magic.h
 * and the file systems' sources). A mapped page of such a file that the server truncates
 * raises SIGBUS on the next read; a heap copy cannot. */
static const struct {
    unsigned long magic;
    const char   *name;
} remote_fs[] = {
    {0x6969, "nfs"},         {0x517B, "smb"},          {0xFF534D42, "cifs"},   {0xFE534D42, "smb2"},
    {0x65735546, "fuse"},    {0x01021997, "9p"},       {0x00C36400, "ceph"},   {0x5346414F, "afs"},
    {0x6B414653, "afs"},     {0x73757245, "coda"},     {0x564C, "ncp"},        {0x01161970, "gfs2"},
    {0x7461636F, "ocfs2"},   {0x0BD00BD0, "lustre"},   {0x47504653, "gpfs"},   {0x786F4256, "vboxsf"},
};

const char *deit_fs_remote_name(unsigned long f_type) {
    for (size_t i = 0; i < G_N_ELEMENTS(remote_fs); i++)
        if ((f_type & 0xFFFFFFFFul) == remote_fs[i].magic) return remote_fs[i].name;
    return NULL;
}

/* DEIT_NO_MMAP=1 in the environment: never map weight files (same as use_mmap false) */
static bool mmap_disabled_by_env(void) {
    const char *e = getenv("DEIT_NO_MMAP");
    return e && *e && strcmp(e, "0") != 0;
}

enum deit_status deit_blob_open(struct deit_blob *blob, const char *path, bool use_mmap, struct deit_error *err) {
    memset(blob, 0, sizeof *blob);
    int    fd   = -1;
    size_t size = 0;
    enum deit_status st = open_regular(path, "weight file", &fd, &size, err);
    if (st != DEIT_STATUS_OK) return st;
    if (size == 0) {
        close(fd);
        blob->data = (const uint8_t *)"";
        return DEIT_STATUS_OK;
    }
    if (use_mmap && mmap_disabled_by_env()) {
        DEIT_LOG_INFO("DEIT_NO_MMAP is set: reading %s into memory instead of mapping it", path);
        use_mmap = false;
    }
    struct statfs sfs;
    const char   *remote = use_mmap && fstatfs(fd, &sfs) == 0 ? deit_fs_remote_name((unsigned long)sfs.f_type) : NULL;
    if (remote) {
        DEIT_LOG_INFO("%s is on a %s file system: reading it into memory instead of mapping it, so that a change "
                      "to the file elsewhere cannot kill this process (SIGBUS)", path, remote);
        use_mmap = false;
    }
    if (use_mmap) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        int   e = errno;
        close(fd);
        if (m == MAP_FAILED)
            return deit_set_error(err, DEIT_STATUS_ERROR_IO, "cannot mmap weight file %s (%zu bytes): %s", path, size,
                                  g_strerror(e));
        blob->map  = m;
        blob->data = m;
        blob->size = size;
        return DEIT_STATUS_OK;
    }
    void *buf = NULL;
    if (posix_memalign(&buf, 64, size) != 0) {
        close(fd);
        return deit_set_error(err, DEIT_STATUS_ERROR_NO_MEMORY, "cannot allocate %zu bytes to read %s", size, path);
    }
    st = read_all(fd, buf, size, "weight file", path, err);
    close(fd);
    if (st != DEIT_STATUS_OK) {
        free(buf);
        return st;
    }
    blob->heap = buf;
    blob->data = buf;
    blob->size = size;
    return DEIT_STATUS_OK;
}

void deit_blob_from_memory(struct deit_blob *blob, const void *data, size_t size) {
    memset(blob, 0, sizeof *blob);
    blob->data = data;
    blob->size = size;
}

void deit_blob_close(struct deit_blob *blob) {
    if (blob->map) munmap(blob->map, blob->size);
    free(blob->heap);
    memset(blob, 0, sizeof *blob);
}

/* ---------------------------------------------------------------------------------------
 * JSON
 */

/* Deepest [ / { nesting in text, counting only brackets outside strings; stops early once
 * past limit. Malformed text is left to json-glib to report. */
static int json_depth(const char *text, size_t len, int limit) {
    int  depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max && (max = depth) > limit) break;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

JsonParser *deit_json_parse(const char *text, size_t len, const char *source, enum deit_status bad_status,
                            JsonObject **root_object, struct deit_error *err) {
    *root_object = NULL;
    if (json_depth(text, len, DEIT_JSON_MAX_DEPTH) > DEIT_JSON_MAX_DEPTH) {
        deit_set_error(err, bad_status, "%s nests arrays/objects more than %d levels deep; it is not a Hugging Face "
                       "file: fix or re-download it", source, DEIT_JSON_MAX_DEPTH);
        return NULL;
    }
    JsonParser *parser = json_parser_new_immutable();
    GError     *gerr   = NULL;
    if (!json_parser_load_from_data(parser, text, (gssize)len, &gerr)) {
        deit_set_error(err, bad_status, "%s is not valid JSON: %s; fix or re-download it", source,
                       gerr ? gerr->message : "parse error");
        g_clear_error(&gerr);
        g_object_unref(parser);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        deit_set_error(err, bad_status, "%s: the top level must be a JSON object", source);
        g_object_unref(parser);
        return NULL;
    }
    *root_object = json_node_get_object(root);
    return parser;
}

JsonNode *deit_json_member(JsonObject *o, const char *key) {
    JsonNode *n = json_object_get_member(o, key);
    return (n && !JSON_NODE_HOLDS_NULL(n)) ? n : NULL;
}

bool deit_json_is_number(JsonNode *n) {
    if (!n || !JSON_NODE_HOLDS_VALUE(n)) return false;
    GType t = json_node_get_value_type(n);
    return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

bool deit_json_int(JsonNode *n, int64_t *out) {
    if (!deit_json_is_number(n)) return false;
    if (json_node_get_value_type(n) == G_TYPE_INT64) {
        *out = json_node_get_int(n);
        return true;
    }
    double d = json_node_get_double(n);   /* accept 224.0: integral doubles only */
    if (d >= -1e15 && d <= 1e15 && d == (double)(int64_t)d) {
        *out = (int64_t)d;
        return true;
    }
    return false;
}

bool deit_json_uint(JsonNode *n, uint64_t *out) {
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) return false;
    gint64 v = json_node_get_int(n);
    if (v < 0) return false;
    *out = (uint64_t)v;
    return true;
}
