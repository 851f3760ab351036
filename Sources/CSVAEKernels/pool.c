// pool.c: a fixed-size thread pool. Idle workers park on a condition variable (no spinning:
// on a 2-core machine shared with other work, spinning workers steal the core they wait for).
// csvae_pool_run allocates nothing; it publishes (fn, ctx, ntasks) under the mutex, bumps a
// generation counter, wakes the workers, runs worker 0's tasks itself and waits until the
// count of workers still busy drops to zero.
#include "csvae_kernels.h"
#include <pthread.h>
#include <stdlib.h>

struct csvae_pool {
    size_t threads;
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    size_t busy;
    int quit;
    csvae_task_fn fn;
    void *ctx;
    size_t ntasks;
};

typedef struct {
    csvae_pool *p;
    size_t id;
} worker_arg;

static void run_share(csvae_pool *p, csvae_task_fn fn, void *ctx, size_t ntasks, size_t id) {
    for (size_t t = id; t < ntasks; t += p->threads) fn(ctx, t, ntasks);
}

static void *worker(void *argp) {
    worker_arg a = *(worker_arg *)argp;
    free(argp);
    csvae_pool *p = a.p;
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
        run_share(p, fn, ctx, ntasks, a.id);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
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
        if (!a || (a->p = p, a->id = i, pthread_create(&p->tids[i], NULL, worker, a) != 0)) {
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
    if (p->threads == 1 || ntasks <= 1) {  // inline
        for (size_t t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    p->busy = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_share(p, fn, ctx, ntasks, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy != 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
