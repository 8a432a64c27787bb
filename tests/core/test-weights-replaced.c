/* test-weights-replaced.c - what happens to a loaded model when its weight file changes
 * (issue 16 item 4; the promise is in docs/reliability.md):
 *
 *   - read into memory (deit_model_params.use_mmap = false, DEIT_NO_MMAP=1, or a file on a
 *     network / FUSE file system): the file can be truncated or rewritten in place after
 *     loading and inference goes on with the weights as loaded, bit for bit;
 *   - mapped (the default on a local file system): truncating the file in place kills the
 *     process with SIGBUS at the next inference, as documented (checked in a child
 *     process); checkpoints must be replaced by rename, which leaves the mapping intact:
 *     also checked, with bit-identical results after the rename;
 *   - the file-system table (nfs, cifs, fuse, 9p, ... are read, ext4 / tmpfs mapped), a
 *     real FUSE mount (bindfs, when installed: .ci/install-deps) and deit-infer --no-mmap.
 *
 * Usage: test-weights-replaced FIXTURES_DIR DEIT_INFER   (core fixture deit-tiny, F32)
 */
#include "deit-internal.h"
#include "test-state.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_failures;

#define CHECK(cond, ...)                                                                                         \
    do {                                                                                                         \
        bool ok_ = (cond);                                                                                       \
        printf("%-4s ", ok_ ? "ok" : "FAIL");                                                                    \
        printf(__VA_ARGS__);                                                                                     \
        printf("\n");                                                                                            \
        if (!ok_) g_failures++;                                                                                  \
    } while (0)

static const char *FILES[] = {"config.json", "preprocessor_config.json", "model.safetensors"};

static char *copy_checkpoint(const char *src) {
    GError *e   = NULL;
    char   *dir = g_dir_make_tmp("deit-replaced-XXXXXX", &e);
    if (!dir) {
        printf("FAIL: %s\n", e->message);
        exit(1);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(FILES); i++) {
        char  *from = g_build_filename(src, FILES[i], NULL), *to = g_build_filename(dir, FILES[i], NULL);
        gchar *data = NULL;
        gsize  len  = 0;
        if (!g_file_get_contents(from, &data, &len, &e) || !g_file_set_contents(to, data, (gssize)len, &e)) {
            printf("FAIL: copying %s: %s\n", from, e->message);
            exit(1);
        }
        g_free(data), g_free(from), g_free(to);
    }
    return dir;
}

static void remove_checkpoint(char *dir) {
    for (size_t i = 0; i < G_N_ELEMENTS(FILES); i++) {
        char *p = g_build_filename(dir, FILES[i], NULL);
        g_unlink(p);
        g_free(p);
    }
    g_rmdir(dir);
    g_free(dir);
}

/* one inference on a fixed input; the logits into out (num_labels floats) */
static bool infer(struct deit_state *st, const struct deit_model *m, float *out) {
    const struct deit_model_info *mi = deit_model_get_info(m);
    float *x = deit_state_input(st, 0);
    size_t n = (size_t)mi->num_channels * mi->image_height * mi->image_width;
    for (size_t i = 0; i < n; i++) x[i] = sinf((float)i * 0.37f);
    if (deit_state_run(st, 1, NULL) != DEIT_STATUS_OK) return false;
    size_t       k = 0;
    const float *l = deit_state_get_output(st, DEIT_OUTPUT_LOGITS, 0, &k);
    if (!l || k != (size_t)mi->num_labels) return false;
    memcpy(out, l, k * sizeof *out);
    return true;
}

static struct deit_model *load(const char *dir, bool use_mmap) {
    struct deit_model_params p = deit_model_default_params();
    p.use_mmap                 = use_mmap;
    struct deit_error err;
    struct deit_model *m = deit_model_load(dir, &p, &err);
    if (!m) {
        printf("FAIL: cannot load %s: %s\n", dir, err.message);
        exit(1);
    }
    return m;
}

static struct deit_state *state(const struct deit_model *m) {
    struct deit_state_params sp = deit_state_default_params();
    sp.max_batch                = 1;
    sp.n_threads                = 1;
    return state_or_exit(m, &sp);
}

/* rewrite the file's bytes in place (same inode, no rename) */
static void overwrite_in_place(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "r+b");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("FAIL: rewriting %s in place\n", path);
        exit(1);
    }
}

static void write_or_die(const char *path, const void *data, size_t len) {
    GError *e = NULL;
    if (!g_file_set_contents(path, data, (gssize)len, &e)) {
        printf("FAIL: writing %s: %s\n", path, e->message);
        exit(1);
    }
}

/* in place: same inode, new size or bytes (what `cp new model.safetensors` or a download
 * tool writing over the file does) */
static void truncate_in_place(const char *path, off_t size) {
    if (truncate(path, size) != 0) {
        printf("FAIL: truncate %s: %s\n", path, g_strerror(errno));
        exit(1);
    }
}

/* Child: map the weights, run once, truncate the file in place, run again. Expected to die
 * of SIGBUS in the second run (exit 0 would mean the mapped case silently survives, and
 * the documentation would be wrong). The weights are left as stored
 * (DEIT_NO_PACKED_WEIGHTS), so every weight is read from the mapping. */
static int mmap_child(const char *dir) {
    struct deit_model *m = load(dir, true);
    struct deit_state *st = state(m);
    float logits[4096];
    if (!infer(st, m, logits)) return 3;
    char *w = g_build_filename(dir, "model.safetensors", NULL);
    truncate_in_place(w, 0);
    fprintf(stderr, "child: file truncated, running again (SIGBUS expected)\n");
    infer(st, m, logits);
    return 0;
}

static void test_fs_table(void) {
    CHECK(deit_fs_remote_name(0x6969) && strcmp(deit_fs_remote_name(0x6969), "nfs") == 0, "nfs is remote");
    CHECK(deit_fs_remote_name(0xFF534D42ul) != NULL, "cifs is remote");
    CHECK(deit_fs_remote_name((unsigned long)(long)(int)0xFF534D42) != NULL,
          "cifs is remote when f_type comes sign-extended");
    CHECK(deit_fs_remote_name(0xFE534D42ul) != NULL, "smb2 is remote");
    CHECK(deit_fs_remote_name(0x65735546) && strcmp(deit_fs_remote_name(0x65735546), "fuse") == 0, "fuse is remote");
    CHECK(deit_fs_remote_name(0x01021997) != NULL, "9p is remote");
    CHECK(deit_fs_remote_name(0xEF53) == NULL, "ext4 is local");
    CHECK(deit_fs_remote_name(0x01021994) == NULL, "tmpfs is local");
    CHECK(deit_fs_remote_name(0x9123683E) == NULL, "btrfs is local");
    CHECK(deit_fs_remote_name(0x58465342) == NULL, "xfs is local");
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--mmap-child") == 0) return mmap_child(argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: %s FIXTURES_DIR DEIT_INFER\n", argv[0]);
        return 2;
    }
    char *src = g_build_filename(argv[1], "deit-tiny", NULL);
    char *probe = g_build_filename(src, "model.safetensors", NULL);
    if (!g_file_test(probe, G_FILE_TEST_IS_REGULAR)) {
        printf("SKIP: %s not found (fixtures need python3-torch)\n", probe);
        return 77;
    }
    g_free(probe);
    unsetenv("DEIT_NO_MMAP");
    test_fs_table();

    /* 1. read into memory: truncation and in-place rewrites after loading change nothing */
    char *dir = copy_checkpoint(src);
    char *w   = g_build_filename(dir, "model.safetensors", NULL);
    struct deit_model *m = load(dir, false);
    const struct deit_model_info info = *deit_model_get_info(m), *mi = &info;
    CHECK(mi->weight_bytes_copied == mi->weight_bytes, "use_mmap false: all %zu weight bytes copied (%zu)",
          mi->weight_bytes, mi->weight_bytes_copied);
    struct deit_state *st = state(m);
    float ref[4096], got[4096];
    if ((size_t)mi->num_labels > G_N_ELEMENTS(ref)) return 1;
    CHECK(infer(st, m, ref), "use_mmap false: inference before any change");
    gsize wlen = 0;
    gchar *wdata = NULL;
    g_file_get_contents(w, &wdata, &wlen, NULL);
    truncate_in_place(w, 0);
    CHECK(infer(st, m, got) && memcmp(got, ref, mi->num_labels * sizeof(float)) == 0,
          "use_mmap false: file truncated to 0 bytes, same logits to the bit");
    gchar *zeros = g_malloc0(wlen);
    truncate_in_place(w, (off_t)wlen);
    overwrite_in_place(w, zeros, wlen);
    CHECK(infer(st, m, got) && memcmp(got, ref, mi->num_labels * sizeof(float)) == 0,
          "use_mmap false: file rewritten as zeros, same logits to the bit");
    deit_state_free(st);
    deit_model_free(m);
    write_or_die(w, wdata, wlen);

    /* 2. DEIT_NO_MMAP=1 turns the default (mapped) into a read */
    setenv("DEIT_NO_MMAP", "1", 1);
    m = load(dir, true);
    CHECK(deit_model_get_info(m)->weight_bytes_copied == deit_model_get_info(m)->weight_bytes,
          "DEIT_NO_MMAP=1: all weight bytes copied");
    st = state(m);
    truncate_in_place(w, 0);
    CHECK(infer(st, m, got) && memcmp(got, ref, mi->num_labels * sizeof(float)) == 0,
          "DEIT_NO_MMAP=1: file truncated after loading, same logits");
    deit_state_free(st);
    deit_model_free(m);
    unsetenv("DEIT_NO_MMAP");
    write_or_die(w, wdata, wlen);

    /* 3. mapped, replaced by rename (the documented way): the old inode stays mapped */
    struct statfs sfs;
    const char   *remote = statfs(dir, &sfs) == 0 ? deit_fs_remote_name((unsigned long)sfs.f_type) : NULL;
    if (remote) {
        printf("skip: %s is on %s, where weights are always read; mapped cases not run\n", dir, remote);
    } else {
        m = load(dir, true);
        CHECK(deit_model_get_info(m)->weight_bytes_copied < deit_model_get_info(m)->weight_bytes,
              "use_mmap true on a local file system: weights used in place (%zu of %zu bytes copied)",
              deit_model_get_info(m)->weight_bytes_copied, deit_model_get_info(m)->weight_bytes);
        st = state(m);
        char *tmp = g_strconcat(w, ".new", NULL);
        write_or_die(tmp, zeros, wlen);
        CHECK(g_rename(tmp, w) == 0, "new weight file renamed over the mapped one");
        CHECK(infer(st, m, got) && memcmp(got, ref, mi->num_labels * sizeof(float)) == 0,
              "mapped, file replaced by rename: same logits to the bit");
        deit_state_free(st);
        deit_model_free(m);
        g_free(tmp);
        write_or_die(w, wdata, wlen);

        /* 4. mapped, truncated in place: SIGBUS, as documented (in a child process; the
         *    sanitizers' SIGBUS handler is turned off there so the signal is what we see) */
        const char *asan = g_getenv("ASAN_OPTIONS");
        char *asan_opts = g_strdup_printf("%s%shandle_sigbus=0", asan ? asan : "", asan && *asan ? ":" : "");
        char **envp = g_environ_setenv(g_get_environ(), "ASAN_OPTIONS", asan_opts, TRUE);
        envp = g_environ_setenv(envp, "DEIT_NO_PACKED_WEIGHTS", "1", TRUE);
        char *child_argv[] = {argv[0], "--mmap-child", dir, NULL};
        int   wait_status = 0;
        GError *e = NULL;
        gboolean spawned = g_spawn_sync(NULL, child_argv, envp, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                                        &wait_status, &e);
        CHECK(spawned && WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGBUS,
              "mapped, file truncated in place: the process is killed by SIGBUS (wait status 0x%x)", wait_status);
        g_strfreev(envp);
        g_free(asan_opts);
        write_or_die(w, wdata, wlen);
    }

    /* 4b. a FUSE file system (bindfs of the checkpoint, when bindfs and /dev/fuse are
     *     there): the loader must read the weights although mmap was asked for, and a
     *     truncation behind its back (through the underlying directory, as another machine
     *     would on NFS) must not matter */
    {
        char *mnt = g_build_filename(g_get_tmp_dir(), "deit-fuse-XXXXXX", NULL);
        char *bindfs = g_find_program_in_path("bindfs");
        int   ws = -1;
        if (bindfs && g_mkdtemp(mnt)) {
            char *mount_argv[] = {bindfs, dir, mnt, NULL};
            g_spawn_sync(NULL, mount_argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &ws, NULL);
        }
        struct statfs mfs;
        if (ws == 0 && statfs(mnt, &mfs) == 0 && deit_fs_remote_name((unsigned long)mfs.f_type)) {
            m = load(mnt, true);
            CHECK(deit_model_get_info(m)->weight_bytes_copied == deit_model_get_info(m)->weight_bytes,
                  "weights on a FUSE file system (bindfs): read although use_mmap is true (%zu of %zu bytes copied)",
                  deit_model_get_info(m)->weight_bytes_copied, deit_model_get_info(m)->weight_bytes);
            st = state(m);
            truncate_in_place(w, 0);   /* the underlying file, behind the FUSE mount's back */
            CHECK(infer(st, m, got) && memcmp(got, ref, mi->num_labels * sizeof(float)) == 0,
                  "FUSE: file truncated underneath after loading, same logits to the bit");
            deit_state_free(st);
            deit_model_free(m);
            write_or_die(w, wdata, wlen);
            char *fusermount = g_find_program_in_path("fusermount3");
            if (!fusermount) fusermount = g_find_program_in_path("fusermount");
            char *umount_argv[] = {fusermount ? fusermount : "umount", fusermount ? "-u" : mnt, mnt, NULL};
            if (!fusermount) umount_argv[2] = NULL;
            g_spawn_sync(NULL, umount_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &ws, NULL);
            g_free(fusermount);
        } else {
            printf("skip: no FUSE mount (bindfs %s): the FUSE case is not run\n", bindfs ? "failed" : "not installed");
        }
        g_rmdir(mnt);
        g_free(mnt);
        g_free(bindfs);
    }

    /* 5. deit-infer --no-mmap reads the weights (its --info line shows them all copied) */
    {
        char *out = NULL;
        int   ws  = 0;
        char *cli[] = {argv[2], "--model", dir, "--info", "--no-mmap", NULL};
        gboolean ok = g_spawn_sync(NULL, cli, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &ws, NULL);
        char *want = g_strdup_printf("weights            %zu bytes float32 (%zu converted or copied at load)",
                                     mi->weight_bytes, mi->weight_bytes);
        CHECK(ok && ws == 0 && out && strstr(out, want), "deit-infer --no-mmap --info: \"%s\"", want);
        g_free(want);
        g_free(out);
    }

    g_free(zeros);
    g_free(wdata);
    g_free(w);
    remove_checkpoint(dir);
    g_free(src);
    printf("%s\n", g_failures ? "FAILED" : "all ok");
    return g_failures ? 1 : 0;
}
