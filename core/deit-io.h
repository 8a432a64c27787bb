/* deit-io.h - bounded reads of checkpoint files and JSON parsing (deit-io.c), for the
 * units that read a checkpoint directory. Not installed.
 */
#ifndef DEIT_IO_H
#define DEIT_IO_H

#include "deit-internal.h"

#include <json-glib/json-glib.h>

/* Bounds for untrusted checkpoint files. Real configs are < 100 kB (ImageNet-21k's 21,843
 * labels: ~1 MB) and nest 3 levels; json-glib recurses once per level. */
#define DEIT_MAX_JSON_FILE_BYTES ((size_t)16 << 20)
#define DEIT_JSON_MAX_DEPTH      64

/* Read a whole regular file of at most max_bytes (NUL-terminated, g_free). A FIFO, device
 * or directory is refused before any read (IO); a missing file is NOT_FOUND; a larger one
 * BAD_CONFIG with the limit in the message. what names the file in messages. */
enum deit_status deit_read_text_file(const char *path, const char *what, size_t max_bytes, char **text, size_t *len,
                                     struct deit_error *err);

/* Parse JSON text whose top level must be an object; source names it in messages, and
 * bad_status is the status of malformed, too deeply nested or non-object text. Returns the
 * parser (g_object_unref; it owns *root_object) or NULL. */
JsonParser *deit_json_parse(const char *text, size_t len, const char *source, enum deit_status bad_status,
                            JsonObject **root_object, struct deit_error *err);
JsonNode *deit_json_member(JsonObject *o, const char *key);   /* NULL when absent or null */
bool      deit_json_is_number(JsonNode *n);                    /* int or double value */
bool      deit_json_int(JsonNode *n, int64_t *out);            /* int, or an integral double (224.0) */
bool      deit_json_uint(JsonNode *n, uint64_t *out);          /* a JSON integer >= 0, nothing else */

#endif /* DEIT_IO_H */
