/* test-long.c - the `long` suite (issue 16): endurance of deitclassify, not run by default
 * (see tests/long/meson.build and docs/reliability.md).
 *
 *   test-long cycles MODE CHECKPOINT [N]   N (1000) state cycles NULL -> PLAYING -> NULL
 *                                          (every third through PAUSED, every fifth
 *                                          through READY), each waiting for classified
 *                                          frames at the sink; RSS must not grow by more
 *                                          than 1 MB from cycle 100 to the end
 *   test-long soak MODE CHECKPOINT [N]     N (100,000) small frames through one pipeline,
 *                                          RSS sampled every 1,000 frames; after a warm-up
 *                                          of 10,000 frames it must stay within 1 MB
 *   test-long caps MODE CHECKPOINT [N]     N (100) caps changes, one every 50 frames,
 *                                          through all 14 formats and 8 sizes (appsrc);
 *                                          every frame comes out, and in sync and batch
 *                                          modes every frame is classified
 * MODE: sync | async | batch (batch-size 4). Prints "rss frame=N kB=K" samples.
 */
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gint g_out_buffers, g_fresh, g_caps_events;
static int  g_failures;

#define FAIL(...)                                                                                                \
    do {                                                                                                         \
        printf("FAIL: " __VA_ARGS__);                                                                            \
        printf("\n");                                                                                            \
        g_failures++;                                                                                            \
    } while (0)

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long  pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char *mode_props(const char *mode) {
    if (strcmp(mode, "sync") == 0) return "threads=1";
    if (strcmp(mode, "async") == 0) return "async=true threads=1";
    if (strcmp(mode, "batch") == 0) return "batch-size=4 threads=1";
    fprintf(stderr, "mode must be sync, async or batch\n");
    exit(2);
}

static GstPadProbeReturn sink_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) g_atomic_int_inc(&g_out_buffers);
    if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) &&
        GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS)
        g_atomic_int_inc(&g_caps_events);
    return GST_PAD_PROBE_OK;
}

/* counts fresh classifications (element messages) from the streaming threads; errors are
 * kept on the bus for the main thread */
static GstBusSyncReply bus_sync(GstBus *bus, GstMessage *msg, gpointer user_data) {
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
        const GstStructure *s = gst_message_get_structure(msg);
        gboolean fresh = FALSE;
        if (s && gst_structure_has_name(s, "deitclassify") && gst_structure_get_boolean(s, "fresh", &fresh) && fresh)
            g_atomic_int_inc(&g_fresh);
        gst_message_unref(msg);   /* GstBusSyncHandler: who returns DROP unrefs the message */
        return GST_BUS_DROP;
    }
    return GST_BUS_PASS;
}

static GstElement *make_pipeline(const char *src, const char *mode, const char *ckpt) {
    char *desc = g_strdup_printf("%s ! deitclassify name=deit model=\"%s\" post-messages=true %s ! "
                                 "fakesink name=sink sync=false",
                                 src, ckpt, mode_props(mode));
    GError     *e = NULL;
    GstElement *p = gst_parse_launch(desc, &e);
    if (!p) {
        printf("FAIL: %s: %s\n", desc, e ? e->message : "?");
        exit(1);
    }
    g_free(desc);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
    GstPad     *pad  = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, sink_probe, NULL, NULL);
    gst_object_unref(pad);
    gst_object_unref(sink);
    GstBus *bus = gst_element_get_bus(p);
    gst_bus_set_sync_handler(bus, bus_sync, NULL, NULL);
    gst_object_unref(bus);
    return p;
}

/* an error on the bus fails the test with its message */
static bool bus_error(GstElement *p) {
    GstBus     *bus = gst_element_get_bus(p);
    GstMessage *m   = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    if (!m) return false;
    GError *e = NULL;
    gchar  *d = NULL;
    gst_message_parse_error(m, &e, &d);
    FAIL("error from %s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), e->message, d ? d : "");
    g_clear_error(&e);
    g_free(d);
    gst_message_unref(m);
    return true;
}

static bool set_state(GstElement *p, GstState s) {
    if (gst_element_set_state(p, s) == GST_STATE_CHANGE_FAILURE ||
        gst_element_get_state(p, NULL, NULL, 30 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS) {
        FAIL("state change to %s failed", gst_element_state_get_name(s));
        bus_error(p);
        return false;
    }
    return true;
}

static int run_cycles(const char *mode, const char *ckpt, int n) {
    GstElement *p = make_pipeline("videotestsrc pattern=ball ! video/x-raw,width=48,height=36,format=I420",
                                  mode, ckpt);
    long rss100 = 0, rss_max = 0;
    for (int i = 0; i < n && !g_failures; i++) {
        g_atomic_int_set(&g_out_buffers, 0);
        if (i % 5 == 4 && !set_state(p, GST_STATE_READY)) break;
        if (!set_state(p, GST_STATE_PLAYING)) break;
        gint64 deadline = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
        while (g_atomic_int_get(&g_out_buffers) < 3 && g_get_monotonic_time() < deadline && !bus_error(p))
            g_usleep(200);
        if (g_atomic_int_get(&g_out_buffers) < 3) FAIL("cycle %d: no frames at the sink within 30 s", i);
        if (i % 3 == 2 && !set_state(p, GST_STATE_PAUSED)) break;
        if (!set_state(p, GST_STATE_NULL)) break;
        if ((i + 1) % 100 == 0) {
            long r = rss_kb();
            printf("rss cycle=%d kB=%ld\n", i + 1, r);
            fflush(stdout);
            if (i + 1 == 100) rss100 = r;
            if (r > rss_max) rss_max = r;
        }
    }
    if (!g_failures && n >= 200 && rss_max - rss100 > 1024)
        FAIL("RSS grew by %ld kB from cycle 100 to the end (limit 1024 kB)", rss_max - rss100);
    printf("cycles %s: %d cycles, fresh classifications %d\n", mode, n, g_atomic_int_get(&g_fresh));
    gst_object_unref(p);
    return g_failures ? 1 : 0;
}

static int run_soak(const char *mode, const char *ckpt, int n) {
    char *src = g_strdup_printf("videotestsrc pattern=ball num-buffers=%d ! "
                                "video/x-raw,width=40,height=30,format=I420,framerate=30/1", n);
    GstElement *p = make_pipeline(src, mode, ckpt);
    g_free(src);
    if (!set_state(p, GST_STATE_PLAYING)) return 1;
    GstBus *bus  = gst_element_get_bus(p);
    int     next = 1000, warmup = n / 10;
    long    lo = -1, hi = -1, first = 0, last = 0;
    for (;;) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
        int done = g_atomic_int_get(&g_out_buffers);
        while (done >= next) {   /* sampled from the main thread, every 1,000 frames out */
            long r = rss_kb();
            printf("rss frame=%d kB=%ld\n", next, r);
            fflush(stdout);
            if (next == 1000) first = r;
            last = r;
            if (next > warmup) {
                if (lo < 0 || r < lo) lo = r;
                if (r > hi) hi = r;
            }
            next += 1000;
        }
        if (!m) continue;
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
            gst_bus_post(bus, gst_message_ref(m));
            bus_error(p);
        }
        gst_message_unref(m);
        break;
    }
    gst_object_unref(bus);
    int out = g_atomic_int_get(&g_out_buffers), fresh = g_atomic_int_get(&g_fresh);
    printf("soak %s: %d frames out, %d classified; RSS %ld kB at frame 1000, %ld kB at the end; after "
           "frame %d: %ld .. %ld kB (spread %ld kB)\n",
           mode, out, fresh, first, last, warmup, lo, hi, hi - lo);
    if (out != n) FAIL("%d of %d frames came out", out, n);
    if (strcmp(mode, "async") != 0 && fresh != n) FAIL("%d of %d frames classified", fresh, n);
    if (hi - lo > 1024) FAIL("RSS spread %ld kB after warm-up (limit 1024 kB)", hi - lo);
    set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    return g_failures ? 1 : 0;
}

static int run_caps(const char *mode, const char *ckpt, int changes) {
    static const char *formats[] = {"RGB", "BGR",  "RGBx", "BGRx", "xRGB", "xBGR", "RGBA",
                                    "BGRA", "ARGB", "ABGR", "GRAY8", "I420", "NV12", "YUY2"};
    static const int sizes[][2] = {{16, 16}, {33, 17}, {64, 48}, {97, 131}, {320, 240}, {1, 1}, {2, 3}, {7, 5}};
    GstElement *p   = make_pipeline("appsrc name=src format=time block=true max-bytes=2000000", mode, ckpt);
    GstElement *src = gst_bin_get_by_name(GST_BIN(p), "src");
    /* asynchronous: the sink prerolls on the first frame pushed below */
    if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        FAIL("state change to PLAYING failed");
        return 1;
    }
    int pushed = 0;
    for (int c = 0; c < changes && !g_failures; c++) {
        const char *fmt = formats[c % G_N_ELEMENTS(formats)];
        int         w = sizes[c % G_N_ELEMENTS(sizes)][0], h = sizes[c % G_N_ELEMENTS(sizes)][1];
        GstVideoInfo info;
        gst_video_info_set_format(&info, gst_video_format_from_string(fmt), w, h);
        GST_VIDEO_INFO_FPS_N(&info) = 30;
        GST_VIDEO_INFO_FPS_D(&info) = 1;
        GstCaps *caps = gst_video_info_to_caps(&info);
        g_object_set(src, "caps", caps, NULL);
        gst_caps_unref(caps);
        for (int f = 0; f < 50; f++, pushed++) {
            GstBuffer *b = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
            GstMapInfo map;
            gst_buffer_map(b, &map, GST_MAP_WRITE);
            for (gsize i = 0; i < map.size; i++) map.data[i] = (guint8)(i * 7 + pushed * 3);
            gst_buffer_unmap(b, &map);
            GST_BUFFER_PTS(b)      = gst_util_uint64_scale(pushed, GST_SECOND, 30);
            GST_BUFFER_DURATION(b) = gst_util_uint64_scale(1, GST_SECOND, 30);
            if (gst_app_src_push_buffer(GST_APP_SRC(src), b) != GST_FLOW_OK) {
                FAIL("push of frame %d (%s %dx%d) refused", pushed, fmt, w, h);
                bus_error(p);
                break;
            }
        }
        if (bus_error(p)) break;
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    GstBus     *bus = gst_element_get_bus(p);
    GstMessage *m   = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!m) FAIL("no EOS within 120 s");
    else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        gst_bus_post(bus, gst_message_ref(m));
        bus_error(p);
    }
    if (m) gst_message_unref(m);
    gst_object_unref(bus);
    int out = g_atomic_int_get(&g_out_buffers), fresh = g_atomic_int_get(&g_fresh);
    int caps_ev = g_atomic_int_get(&g_caps_events);
    printf("caps %s: %d caps changes, %d frames pushed, %d out, %d classified, %d caps events at the sink, "
           "RSS %ld kB\n", mode, changes, pushed, out, fresh, caps_ev, rss_kb());
    if (out != pushed) FAIL("%d of %d frames came out", out, pushed);
    if (caps_ev != changes) FAIL("%d caps events reached the sink, expected %d", caps_ev, changes);
    if (strcmp(mode, "async") != 0 && fresh != pushed) FAIL("%d of %d frames classified", fresh, pushed);
    set_state(p, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(p);
    return g_failures ? 1 : 0;
}

int main(int argc, char **argv) {
    gst_init(&argc, &argv);
    if (argc < 4) {
        fprintf(stderr, "usage: %s cycles|soak|caps sync|async|batch CHECKPOINT [N]\n", argv[0]);
        return 2;
    }
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/model.safetensors", argv[3]);
    if (access(probe, R_OK) != 0) {
        printf("SKIP: %s not found (the test checkpoint needs python3-torch)\n", probe);
        return 77;
    }
    int  n   = argc > 4 ? atoi(argv[4]) : 0;
    int  rc  = 2;
    gint64 t0 = g_get_monotonic_time();
    if (strcmp(argv[1], "cycles") == 0) rc = run_cycles(argv[2], argv[3], n > 0 ? n : 1000);
    else if (strcmp(argv[1], "soak") == 0) rc = run_soak(argv[2], argv[3], n > 0 ? n : 100000);
    else if (strcmp(argv[1], "caps") == 0) rc = run_caps(argv[2], argv[3], n > 0 ? n : 100);
    printf("%s %s: %s in %.1f s\n", argv[1], argv[2], rc == 0 ? "ok" : "FAILED",
           (double)(g_get_monotonic_time() - t0) / 1e6);
    return rc;
}
