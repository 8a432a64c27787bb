/* test-hostile-files.c - a checkpoint directory is untrusted input: files that would crash
 * the parser, block the loader or fill memory are refused quickly with a message that names
 * the problem.
 *
 *   - JSON nested 80,000 levels (arrays) or 200,000 levels (objects) as config.json,
 *     preprocessor_config.json and a safetensors header: json-glib recurses once per
 *     level and overflowed the stack (SIGSEGV) before the depth limit;
 *   - config.json a symlink to /dev/zero (read without end), a FIFO named config.json or
 *     model.safetensors (open() blocked forever), a 20 MB config.json (read whole, then
 *     parsed).
 * An alarm turns a hang into a failure; each case asserts the status and a message word.
 */
#include "deit.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_failures;

#define TINY_CONFIG                                                                                      \
    "{\"architectures\": [\"DeiTModel\"], \"model_type\": \"deit\", \"hidden_size\": 8, "               \
    "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 16, \"image_size\": 32, " \
    "\"patch_size\": 16}"

static void expect(const char *name, enum deit_status got, const struct deit_error *err, enum deit_status want,
                   const char *needle) {
    bool ok = got == want && strstr(err->message, needle) != NULL;
    printf("%-44s %s (%s: %s)\n", name, ok ? "ok" : "FAIL", deit_status_to_string(got), err->message);
    if (!ok) {
        printf("  expected %s and \"%s\" in the message\n", deit_status_to_string(want), needle);
        g_failures++;
    }
}

/* open + close brackets, depth levels each */
static char *nested(const char *open, const char *close, int depth, size_t *len) {
    size_t lo = strlen(open), lc = strlen(close);
    GString *s = g_string_sized_new((lo + lc) * (size_t)depth + 1);
    for (int i = 0; i < depth; i++) g_string_append(s, open);
    g_string_append(s, "1");
    for (int i = 0; i < depth; i++) g_string_append(s, close);
    *len = s->len;
    return g_string_free(s, FALSE);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len) {
    char *p = g_build_filename(dir, name, NULL);
    if (!g_file_set_contents(p, data, (gssize)len, NULL)) {
        printf("FAIL: cannot write %s\n", p);
        exit(1);
    }
    g_free(p);
}

static enum deit_status load_dir(const char *dir, struct deit_error *err) {
    struct deit_model *m = deit_model_load(dir, NULL, err);
    deit_model_free(m);
    return m ? DEIT_STATUS_OK : err->status;
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: hostile-files test still running after 60 s (a read blocked or ran away)\n";
    if (write(1, msg, sizeof msg - 1) < 0) _exit(1);
    _exit(1);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(60);
    struct deit_error err;
    size_t            len;

    /* deep nesting, from memory */
    char *arr = nested("[", "]", 80000, &len);
    struct deit_model *m = deit_model_load_from_memory(arr, len, NULL, 0, "", 0, &err);
    expect("config.json [[[... 80,000 deep", m ? DEIT_STATUS_OK : err.status, &err, DEIT_STATUS_ERROR_BAD_JSON,
           "levels deep");
    deit_model_free(m);
    char *obj = nested("{\"a\":", "}", 200000, &len);
    struct deit_preprocess_config pc;
    enum deit_status st = deit_preprocess_config_parse(obj, len, "deit", &pc, &err);
    expect("preprocessor_config.json {\"a\": 200,000 deep", st, &err, DEIT_STATUS_ERROR_BAD_JSON, "levels deep");
    /* a safetensors file whose header is that object */
    GByteArray *st_file = g_byte_array_new();
    uint8_t     hlen[8];
    for (int i = 0; i < 8; i++) hlen[i] = (uint8_t)((uint64_t)len >> (8 * i));
    g_byte_array_append(st_file, hlen, 8);
    g_byte_array_append(st_file, (const uint8_t *)obj, (guint)len);
    m = deit_model_load_from_memory(TINY_CONFIG, strlen(TINY_CONFIG), NULL, 0, st_file->data, st_file->len, &err);
    expect("safetensors header {\"a\": 200,000 deep", m ? DEIT_STATUS_OK : err.status, &err,
           DEIT_STATUS_ERROR_BAD_HEADER, "levels deep");
    deit_model_free(m);
    /* nesting inside strings does not count: a label full of brackets is fine */
    const char *brackets_in_string = "{\"image_mean\": [0.5, 0.5, 0.5], \"note\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[\"}";
    st = deit_preprocess_config_parse(brackets_in_string, strlen(brackets_in_string), "deit", &pc, &err);
    expect("brackets inside a JSON string", st, &err, DEIT_STATUS_OK, "");
    /* a processor name that is not a string is ignored, without a json-glib critical
     * (meson runs this test with G_DEBUG=fatal-criticals) */
    const char *odd_names = "{\"image_processor_type\": {\"x\": 1}, \"feature_extractor_type\": [1]}";
    st = deit_preprocess_config_parse(odd_names, strlen(odd_names), "deit", &pc, &err);
    expect("processor names that are an object and an array", st, &err, DEIT_STATUS_OK, "");

    /* files in a checkpoint directory */
    char *dir = g_dir_make_tmp("deit-hostile-XXXXXX", NULL);
    char *cfg = g_build_filename(dir, "config.json", NULL);
    char *pp  = g_build_filename(dir, "preprocessor_config.json", NULL);
    char *wt  = g_build_filename(dir, "model.safetensors", NULL);

    write_file(dir, "config.json", arr, strlen(arr));
    expect("config.json file nested 80,000 deep", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_BAD_JSON,
           "levels deep");

    g_unlink(cfg);
    if (symlink("/dev/zero", cfg) != 0) perror("symlink");
    expect("config.json -> /dev/zero", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_IO, "not a regular file");

    g_unlink(cfg);
    if (mkfifo(cfg, 0600) != 0) perror("mkfifo");
    expect("config.json a FIFO", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_IO, "not a regular file");

    g_unlink(cfg);
    GString *big = g_string_new("{\"model_type\": \"deit\", \"id2label\": {");
    for (int i = 0; big->len < ((size_t)20 << 20); i++) g_string_append_printf(big, "%s\"%d\": \"label %d\"", i ? ", " : "", i, i);
    g_string_append(big, "}}");
    write_file(dir, "config.json", big->str, big->len);
    expect("config.json of 20 MB", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_BAD_CONFIG, "byte limit");
    g_string_free(big, TRUE);

    write_file(dir, "config.json", TINY_CONFIG, strlen(TINY_CONFIG));
    write_file(dir, "preprocessor_config.json", obj, len);
    expect("preprocessor_config.json nested 200,000", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_BAD_JSON,
           "levels deep");
    g_unlink(pp);
    if (mkfifo(pp, 0600) != 0) perror("mkfifo");
    expect("preprocessor_config.json a FIFO", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_IO, "not a regular file");
    g_unlink(pp);

    if (mkfifo(wt, 0600) != 0) perror("mkfifo");
    expect("model.safetensors a FIFO", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_IO, "not a regular file");
    g_unlink(wt);
    if (symlink("/dev/zero", wt) != 0) perror("symlink");
    expect("model.safetensors -> /dev/zero", load_dir(dir, &err), &err, DEIT_STATUS_ERROR_IO, "not a regular file");
    g_unlink(wt);

    g_unlink(cfg);
    g_rmdir(dir);
    g_free(cfg);
    g_free(pp);
    g_free(wt);
    g_free(dir);
    g_free(arr);
    g_free(obj);
    g_byte_array_unref(st_file);
    printf("%s: %d failure(s)\n", g_failures ? "FAIL" : "PASS", g_failures);
    return g_failures ? 1 : 0;
}
