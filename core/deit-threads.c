/* deit-threads.c - a small persistent worker pool, the single owner of parallelism.
 *
 * deit_pool_run() hands one function to every worker; the calling thread is worker 0, so
 * a pool of 1 runs everything inline with no synchronisation. Workers spin briefly on a
 * generation counter (a forward pass has ~10 parallel sections per layer, and a condvar
 * wake-up costs tens of microseconds) and then sleep on a condition variable, so an idle
 * pool costs no CPU. OpenBLAS is made single-threaded so that its threads never nest
 * inside ours (OpenBLAS USAGE notes: a multi-threaded caller must not use threaded BLAS).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, pthread_setaffinity_np */
#endif
#include "deit-internal.h"
#include "deit-features.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Pinned pools (deit_affinity): when the workers are exactly as many as the CPUs this
 * process may run on, each gets one CPU for its lifetime and the caller only waits. On a
 * busy machine Linux balances runnable threads by count: our 2 workers and 1 other busy
 * process on 2 CPUs ended up as both workers on one CPU (one CPU's worth for us, no faster
 * than 1 thread) far more often than not; pinned, each worker keeps its CPU and shares it
 * at worst (bench/README.md). The caller's own affinity is never touched. ONNX Runtime
 * pins its intra-op threads the same way by default. */

/* How long a waiting thread spins before it sleeps on the condition variable. Long
 * enough to bridge the gap between two parallel sections of one forward pass (a few
 * microseconds), short enough that a spinning thread does not steal a busy machine's
 * cores from the thread it waits for. deit_state_params.spin_us (and DEIT_SPIN_US for the
 * default) overrides it (0 = always sleep). */
#define DEFAULT_SPIN_NS 50000

struct deit_pool {
    int              n;
    bool             pinned;       /* n threads of ours, one per CPU; the caller only waits */
    int             *cpus;         /* pinned: worker i runs on CPU cpus[i] */
    pthread_t       *threads;
    pthread_mutex_t  mutex;
    pthread_cond_t   wake;
    pthread_cond_t   done_cond;
    atomic_uint      generation;   /* bumped for each job */
    atomic_int       pending;      /* workers (excluding 0) still running the job */
    atomic_bool      quit;
    long long        spin_ns;      /* spin budget before sleeping */
    deit_pool_fn     fn;
    void            *ctx;
};

static bool no_new_job(struct deit_pool *pool, unsigned seen) {
    return atomic_load_explicit(&pool->generation, memory_order_acquire) == seen && !atomic_load(&pool->quit);
}

static bool workers_busy(struct deit_pool *pool, unsigned unused) {
    (void)unused;
    return atomic_load_explicit(&pool->pending, memory_order_acquire) > 0;
}

long long deit_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spins while cond(arg) holds, for at most the spin budget; returns whether it still holds. */
static bool spin_while(bool (*cond)(struct deit_pool *, unsigned), struct deit_pool *pool, unsigned arg) {
    const long long budget = pool->spin_ns;
    if (budget == 0) return cond(pool, arg);
    long long start = 0;
    for (unsigned i = 0;; i++) {
        if (!cond(pool, arg)) return false;
        deit_cpu_relax();
        if ((i & 63) == 63) {
            const long long t = deit_now_ns();
            if (start == 0) start = t;
            else if (t - start > budget) return true;
        }
    }
}

struct worker_arg {
    struct deit_pool *pool;
    int               index;
};

static void *worker_main(void *p) {
    struct worker_arg *arg  = p;
    struct deit_pool  *pool = arg->pool;
    int                idx  = arg->index;
    free(arg);
#if defined(__linux__)
    if (pool->pinned) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(pool->cpus[idx], &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
            DEIT_LOG_DEBUG("pool: worker %d could not be pinned to CPU %d", idx, pool->cpus[idx]);
    }
#endif
    unsigned seen = 0;
    for (;;) {
        if (spin_while(no_new_job, pool, seen)) {
            pthread_mutex_lock(&pool->mutex);
            while (no_new_job(pool, seen)) pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->quit)) break;
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        pool->fn(pool->ctx, idx, pool->n);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mutex);
            pthread_cond_signal(&pool->done_cond);
            pthread_mutex_unlock(&pool->mutex);
        }
    }
    return NULL;
}

int deit_default_threads(void) {
#if defined(__linux__)
    /* the CPUs this thread may run on (taskset, a container's cpuset), not all online */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

void deit_blas_single_thread(void) {
#if HAVE_OPENBLAS_SET_NUM_THREADS
    static atomic_bool done;
    if (!atomic_exchange(&done, true)) openblas_set_num_threads(1);
#endif
}

/* Whether n workers can each have a CPU of this thread's affinity mask: exactly as many
 * CPUs as workers (then one per CPU is what the OS would do on an idle machine, and several
 * pools of this kind stay balanced); cpus gets them in order. */
static bool one_cpu_each(int n, int **cpus) {
#if defined(__linux__)
    cpu_set_t set;
    if (n < 2 || sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != n) return false;
    if (!(*cpus = malloc(sizeof(int) * (size_t)n))) return false;
    for (int c = 0, i = 0; c < CPU_SETSIZE && i < n; c++)
        if (CPU_ISSET(c, &set)) (*cpus)[i++] = c;
    return true;
#else
    (void)n, (void)cpus;
    return false;
#endif
}

struct deit_pool *deit_pool_new(int n_threads, int spin_us, enum deit_affinity affinity) {
    if (n_threads <= 0) n_threads = deit_default_threads();
    struct deit_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n = n_threads;
    if (spin_us < 0) { /* the default, or DEIT_SPIN_US */
        const char *env = getenv("DEIT_SPIN_US");
        spin_us         = env && *env ? atoi(env) : DEFAULT_SPIN_NS / 1000;
        if (spin_us < 0) spin_us = 0;
    }
    pool->spin_ns = spin_us > 1000000 ? 1000000000LL : spin_us * 1000LL; /* at most 1 s */
    if (affinity != DEIT_AFFINITY_NONE) pool->pinned = one_cpu_each(n_threads, &pool->cpus);
    if (affinity == DEIT_AFFINITY_PIN && !pool->pinned)
        DEIT_LOG_DEBUG("pool: %d workers not pinned (the thread may run on another number of CPUs)", n_threads);
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done_cond, NULL);
    if (n_threads > 1) {
        pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
        if (!pool->threads) { deit_pool_free(pool); return NULL; }
        for (int i = pool->pinned ? 0 : 1; i < n_threads; i++) {
            struct worker_arg *arg = malloc(sizeof *arg);
            if (!arg || pthread_create(&pool->threads[i], NULL, worker_main,
                                       (*arg = (struct worker_arg){pool, i}, arg)) != 0) {
                free(arg);
                pool->n = i; /* only join what started */
                deit_pool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void deit_pool_free(struct deit_pool *pool) {
    if (!pool) return;
    if (pool->threads) {
        pthread_mutex_lock(&pool->mutex);
        atomic_store(&pool->quit, true);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
        for (int i = pool->pinned ? 0 : 1; i < pool->n; i++) pthread_join(pool->threads[i], NULL);
        free(pool->threads);
    }
    free(pool->cpus);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done_cond);
    free(pool);
}

int deit_pool_size(const struct deit_pool *pool) { return pool ? pool->n : 1; }

void deit_pool_run(struct deit_pool *pool, deit_pool_fn fn, void *ctx) {
    if (!pool || pool->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn  = fn;
    pool->ctx = ctx;
    atomic_store(&pool->pending, pool->pinned ? pool->n : pool->n - 1);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    if (!pool->pinned) fn(ctx, 0, pool->n);
    /* pinned: the caller sleeps at once, its CPU is the workers' */
    if (pool->pinned || spin_while(workers_busy, pool, 0)) {
        pthread_mutex_lock(&pool->mutex);
        while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done_cond, &pool->mutex);
        pthread_mutex_unlock(&pool->mutex);
    }
}

void deit_pool_split(int total, int align, int i, int n, int *begin, int *end) {
    if (align < 1) align = 1;
    int chunks = (total + align - 1) / align;
    int per    = chunks / n, rem = chunks % n;
    int cb     = i * per + (i < rem ? i : rem);
    int ce     = cb + per + (i < rem ? 1 : 0);
    *begin     = cb * align < total ? cb * align : total;
    *end       = ce * align < total ? ce * align : total;
}
