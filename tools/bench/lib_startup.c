/*
 * lib_startup.c: the start-up cost of libsvae as a C program pays it, for tools/bench/lib_startup.sh.
 *
 *   lib_startup                      the process alone (the baseline)
 *   lib_startup LIBRARY              + dlopen(LIBRARY) and a first call (svae_version), if
 *                                      LIBRARY has it (libopenblas.so.0 gives OpenBLAS's own share)
 *   lib_startup LIBRARY MODEL.svae   + svae_model_load(MODEL) and svae_model_free
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

#include "svae.h"

/* The functions used, as pointers (dlsym; POSIX allows the object-to-function pointer cast). */
typedef const char *(*version_fn)(void);
typedef svae_model *(*load_fn)(const char *, const svae_model_params *, char *, size_t);
typedef void (*free_fn)(svae_model *);

int main(int argc, char **argv) {
    if (argc < 2) return 0;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    version_fn version = (version_fn)dlsym(lib, "svae_version");
    if (version && !version()[0]) return 1;
    if (argc > 2) {
        load_fn load = (load_fn)dlsym(lib, "svae_model_load");
        free_fn release = (free_fn)dlsym(lib, "svae_model_free");
        char error[256];
        svae_model *model = load ? load(argv[2], NULL, error, sizeof error) : NULL;
        if (!model || !release) {
            fprintf(stderr, "cannot load %s: %s\n", argv[2], model ? "no svae_model_free" : error);
            return 1;
        }
        release(model);
    }
    return 0;
}
