// DecodeInputs: the device inputs of a decode step (one new token per sequence) at fixed addresses and
// fixed shapes, padded to a batch bucket: what a captured CUDA graph reads. Every field has room for the
// largest bucket; block tables are [max_seqs, max_blocks] with this step's row stride in a device scalar,
// so a graph captured once serves every later step of its bucket. Padding rows have no KV slot (-1), no
// blocks, and a greedy sampler row that nobody reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/kernels/kernels.h"
#include "cuda/pinned_buffer.h"
#include "engine/batch_inputs.h"

namespace gptoss::cuda {

// Device pointers to one step's inputs (the eager path uploads these per step; DecodeInputs keeps them
// fixed).
struct StepInputs {
    const int32_t* token_ids = nullptr;           // [T]
    const int32_t* positions = nullptr;           // [T]
    const int32_t* query_start = nullptr;         // [S + 1]
    const int32_t* full_table = nullptr;          // [S, full stride]
    const int64_t* full_slots = nullptr;          // [T]
    const int32_t* window_first_block = nullptr;  // [S]
    const int32_t* window_table = nullptr;        // [S, window stride]
    const int64_t* window_slots = nullptr;        // [T]
    const int32_t* tile_seq = nullptr;            // [tiles]
    const int32_t* tile_row_start = nullptr;      // [tiles]
    const int32_t* row_token = nullptr;           // [R]
    const SamplingRowParams* sampling = nullptr;  // [GPU-sampled rows]
    // Row strides of the two tables when they live on the device (DecodeInputs); null: the step's constants.
    const int32_t* full_stride = nullptr;
    const int32_t* window_stride = nullptr;
};

class DecodeInputs {
public:
    DecodeInputs(int max_seqs, int max_blocks);

    // Whether `in` is a decode step these buffers can hold.
    bool holds(const BatchInputs& in) const;
    // Packs `in` padded to `bucket` rows (sampler rows `params`, one per sequence) into the pinned staging
    // image and enqueues its upload on `stream`. The previous step must have finished with the staging image.
    void upload(const BatchInputs& in, int bucket, const std::vector<SamplingRowParams>& params,
                cudaStream_t stream);
    // Every row padding: what graph capture warms up and records with.
    void upload_padding(int bucket, cudaStream_t stream);
    const StepInputs& device() const { return device_; }

private:
    // Byte offsets of each field in both images (256-byte aligned).
    struct Layout {
        size_t token_ids, positions, query_start, window_first, tile_seq, tile_row_start, row_token, strides,
            full_slots, window_slots, sampling, full_table, window_table, bytes;
    };
    template <class T>
    T* host(size_t offset) {
        return reinterpret_cast<T*>(staging_.get() + offset);
    }
    void enqueue(int bucket, int full_stride, int window_stride, cudaStream_t stream);

    int max_seqs_ = 0;
    int max_blocks_ = 0;
    Layout layout_{};
    DeviceBuffer<std::byte> buffer_;
    PinnedBuffer staging_;
    StepInputs device_;
};

}  // namespace gptoss::cuda
