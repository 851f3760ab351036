// encode.cpp: the C API from C++17 with RAII handles. Same output as examples/c/encode.c.
//
//   g++ -std=c++17 encode.cpp $(pkg-config --cflags --libs svae) -o encode
//   ./encode MODEL.svae ["sentence" ...]
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "svae.h"

namespace {

struct ModelDeleter { void operator()(svae_model *m) const { svae_model_free(m); } };
struct ContextDeleter { void operator()(svae_context *c) const { svae_context_free(c); } };
using ModelPtr = std::unique_ptr<svae_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<svae_context, ContextDeleter>;

// Throws with the context's last error unless rc is SVAE_OK.
void check(int rc, svae_context *ctx) {
    if (rc != SVAE_OK)
        throw std::runtime_error(std::string(svae_status_string(rc)) + ": " + svae_context_last_error(ctx));
}

// Calls fill(buffer, capacity, &needed) once with a guess and once more if it was too small.
template <typename T, typename Fill>
std::vector<T> fill_buffer(svae_context *ctx, size_t guess, size_t extra, Fill fill) {
    std::vector<T> buffer(guess + extra);
    size_t n = 0;
    int rc = fill(buffer.data(), buffer.size(), &n);
    if (rc == SVAE_ERR_BUFFER_TOO_SMALL) {
        buffer.resize(n + extra);
        rc = fill(buffer.data(), buffer.size(), &n);
    }
    check(rc, ctx);
    buffer.resize(n);
    return buffer;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.svae [sentence ...]\n", argv[0]);
        return 2;
    }
    std::vector<const char *> texts(argv + 2, argv + argc);
    if (texts.empty()) texts = {"Hello there.", "the end"};

    char error[512];
    svae_model_params mp = svae_model_default_params();
    ModelPtr model(svae_model_load(argv[1], &mp, error, sizeof error));
    if (!model) {
        std::fprintf(stderr, "cannot load %s: %s\n", argv[1], error);
        return 1;
    }
    svae_context_params cp = svae_context_default_params();
    ContextPtr ctx(svae_context_new(model.get(), &cp));
    if (!ctx) return 1;
    svae_model *m = model.get();
    std::printf("model: %s, hidden %d, vocab %d, max_seq_len %d, weights %s\n", svae_model_architecture(m),
                svae_model_hidden_size(m), svae_model_n_vocab(m), svae_model_max_seq_len(m), svae_model_type_summary(m));
    try {
        const auto n_texts = static_cast<int32_t>(texts.size());
        auto vectors = fill_buffer<float>(ctx.get(), 0, 0, [&](float *out, size_t cap, size_t *n) {
            return svae_encode_texts(ctx.get(), texts.data(), n_texts, out, cap, n);
        });
        const auto d = static_cast<size_t>(svae_model_hidden_size(m));
        for (size_t i = 0; i < texts.size(); i++) {
            std::printf("vector[%zu]:", i);
            for (size_t j = 0; j < d; j++) std::printf(" %.6g", vectors[i * d + j]);
            std::printf("\n");
            int32_t exact = 0;
            auto text = fill_buffer<char>(ctx.get(), 64, 1, [&](char *out, size_t cap, size_t *n) {
                return svae_reconstruct(ctx.get(), texts[i], out, cap, n, &exact);
            });
            std::printf("reconstruct[%zu]: exact=%d output=%s\n", i, static_cast<int>(exact),
                        std::string(text.begin(), text.end()).c_str());
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
