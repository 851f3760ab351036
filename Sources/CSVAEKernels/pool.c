// pool.c: a fixed-size thread pool. Idle workers park on a condition variable (no spinning:
// on a 2-core machine shared with other work, spinning workers steal the core they wait for).
// csvae_pool_run allocates nothing; it publishes (fn, ctx, ntasks) under the mutex, bumps a
// generation counter and wakes the workers. Tasks are then CLAIMED dynamically by whoever is
// running (the caller included) from an atomic word holding (generation << 32 | next task):
// when the other core is busy and a worker wakes late, the caller simply does more of the
// tasks instead of waiting for it, so a 2-thread run is never much slower than a 1-thread one.
// The caller returns once every task has finished; a worker that wakes after that finds the
// generation changed (or no task left) and claims nothing, so it never touches a stale ctx.
#include "csvae_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct csvae_pool {
    size_t threads;
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    _Atomic uint64_t claim;  // (generation << 32) | next unclaimed task
    _Atomic size_t finished; // tasks finished in this generation
    int quit;
    csvae_task_fn fn;
    void *ctx;
    size_t ntasks;
};

typedef struct {
    csvae_pool *p;
} worker_arg;

/// Claim and run tasks of generation `gen` until none is left.
static void run_claims(csvae_pool *p, uint64_t gen, csvae_task_fn fn, void *ctx, size_t ntasks) {
    uint64_t v = atomic_load(&p->claim);
    for (;;) {
        if ((v >> 32) != (gen & 0xffffffffu) || (v & 0xffffffffu) >= ntasks) return;
        if (!atomic_compare_exchange_weak(&p->claim, &v, v + 1)) continue;  // v reloaded
        fn(ctx, (size_t)(v & 0xffffffffu), ntasks);
        if (atomic_fetch_add(&p->finished, 1) + 1 == ntasks) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
        v = atomic_load(&p->claim);
    }
}

static void *worker(void *argp) {
    csvae_pool *p = ((worker_arg *)argp)->p;
    free(argp);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        csvae_task_fn fn = p->fn;
        void *ctx = p->ctx;
        size_t ntasks = p->ntasks;
        pthread_mutex_unlock(&p->mu);
        run_claims(p, seen, fn, ctx, ntasks);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

csvae_pool *csvae_pool_create(size_t threads) {
    if (threads == 0) threads = 1;
    csvae_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    p->tids = calloc(threads, sizeof(pthread_t));
    if (!p->tids) { free(p); return NULL; }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (size_t i = 1; i < threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a || (a->p = p, pthread_create(&p->tids[i], NULL, worker, a) != 0)) {
            free(a);
            p->threads = i;  // keep the workers that did start
            break;
        }
    }
    return p;
}

void csvae_pool_destroy(csvae_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 1; i < p->threads; i++) pthread_join(p->tids[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->tids);
    free(p);
}

size_t csvae_pool_threads(const csvae_pool *p) { return p->threads; }

void csvae_pool_run(csvae_pool *p, csvae_task_fn fn, void *ctx, size_t ntasks) {
    if (p->threads == 1 || ntasks <= 1 || ntasks > 0xffffffffu) {  // inline
        for (size_t t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    p->generation++;
    atomic_store(&p->finished, 0);
    atomic_store(&p->claim, (uint64_t)(p->generation & 0xffffffffu) << 32);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_claims(p, p->generation, fn, ctx, ntasks);
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->finished) != ntasks) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
