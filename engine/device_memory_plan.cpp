#include "engine/device_memory_plan.h"

#include <fmt/format.h>

#include "config/model_config.h"

namespace gptoss {
namespace {

double gib(int64_t bytes) {
    return static_cast<double>(bytes) / (int64_t{1} << 30);
}

}  // namespace

DeviceMemoryPlan plan_device_memory(int64_t total_bytes, int64_t free_bytes, double gpu_memory_utilization,
                                    int64_t weight_bytes, int64_t activation_bytes) {
    DeviceMemoryPlan plan;
    plan.total_bytes = total_bytes;
    plan.target_bytes = static_cast<int64_t>(static_cast<double>(total_bytes) * gpu_memory_utilization);
    plan.in_use_bytes = total_bytes - free_bytes;
    plan.weight_bytes = weight_bytes;
    plan.activation_bytes = activation_bytes;
    if (weight_bytes > free_bytes) {
        throw ConfigError(
            fmt::format("the weights need {:.2f} GiB but the GPU has {:.2f} GiB free of {:.2f} GiB: this "
                        "checkpoint does not "
                        "fit this GPU",
                        gib(weight_bytes), gib(free_bytes), gib(total_bytes)));
    }
    plan.kv_budget_bytes = plan.target_bytes - plan.in_use_bytes - weight_bytes - activation_bytes;
    if (plan.kv_budget_bytes <= 0) {
        throw ConfigError(fmt::format(
            "--gpu-memory-utilization {} allows {:.2f} GiB of this GPU's {:.2f} GiB, but {:.2f} GiB are "
            "already "
            "in use, the weights need {:.2f} GiB and the activations {:.2f} GiB, which leaves nothing for "
            "the KV "
            "cache; raise --gpu-memory-utilization, or lower --max-num-batched-tokens / --max-num-seqs",
            gpu_memory_utilization, gib(plan.target_bytes), gib(total_bytes), gib(plan.in_use_bytes),
            gib(weight_bytes), gib(activation_bytes)));
    }
    return plan;
}

}  // namespace gptoss
