// Dense bf16 projections (qkv, o, router, lm_head): y[T, out] = x[T, in] W^T + bias. Decode sizes go to
// the CUDA-core weight stream (gemv.cu); larger ones through cuBLASLt: bf16 operands, float32 accumulation,
// float32 output, the bias added in the GEMM epilogue.
//
// cuBLASLt is column-major: the row-major y [T, out] is the column-major out x T matrix
// D = op(A) B with A = W seen as a column-major in x out matrix (op = transpose) and B = x as in x T.
#include <stdexcept>

#include "cuda/cuda_check.h"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {

struct LinearGemm::Plan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
    ~Plan() {
        if (d) cublasLtMatrixLayoutDestroy(d);
        if (b) cublasLtMatrixLayoutDestroy(b);
        if (a) cublasLtMatrixLayoutDestroy(a);
        if (desc) cublasLtMatmulDescDestroy(desc);
    }
};

LinearGemm::LinearGemm(size_t workspace_bytes) : workspace_bytes_(workspace_bytes) {
    GPTOSS_CUBLAS_CHECK(cublasLtCreate(&handle_));
    GPTOSS_CUDA_CHECK(cudaMalloc(&workspace_, workspace_bytes_));
}

LinearGemm::~LinearGemm() {
    plans_.clear();
    cudaFree(workspace_);
    cublasLtDestroy(handle_);
}

const LinearGemm::Plan& LinearGemm::plan_for(const LinearArgs& args) {
    const auto key =
        std::make_tuple(args.num_tokens, args.in_features, args.out_features, args.bias != nullptr);
    if (auto it = plans_.find(key); it != plans_.end()) return *it->second;
    auto plan = std::make_unique<Plan>();
    GPTOSS_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t transpose = CUBLAS_OP_T, no_transpose = CUBLAS_OP_N;
    GPTOSS_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &transpose,
                                                       sizeof(transpose)));
    GPTOSS_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &no_transpose,
                                                       sizeof(no_transpose)));
    const cublasLtEpilogue_t epilogue = args.bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    GPTOSS_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                       sizeof(epilogue)));
    if (args.bias) {
        const cudaDataType_t bias_type = CUDA_R_32F;
        GPTOSS_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                           &bias_type, sizeof(bias_type)));
    }
    GPTOSS_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->a, CUDA_R_16BF, args.in_features, args.out_features,
                                                   args.in_features));
    GPTOSS_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->b, CUDA_R_16BF, args.in_features, args.num_tokens,
                                                   args.in_features));
    GPTOSS_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->d, CUDA_R_32F, args.out_features, args.num_tokens,
                                                   args.out_features));

    cublasLtMatmulPreference_t preference = nullptr;
    GPTOSS_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes_, sizeof(workspace_bytes_));
    if (status == CUBLAS_STATUS_SUCCESS)
        status = cublasLtMatmulAlgoGetHeuristic(handle_, plan->desc, plan->a, plan->b, plan->d, plan->d,
                                                preference, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(preference);
    GPTOSS_CUBLAS_CHECK(status);
    if (found == 0)
        throw CudaError("cuBLASLt has no algorithm for a bf16 linear of " + std::to_string(args.num_tokens) +
                        " x " + std::to_string(args.in_features) + " -> " +
                        std::to_string(args.out_features));
    plan->algo = result.algo;
    return *plans_.emplace(key, std::move(plan)).first->second;
}

void LinearGemm::run(const LinearArgs& args, cudaStream_t stream) {
    if (args.num_tokens == 0) return;
    if (args.num_tokens <= kGemvMaxTokens) {
        linear_gemv(args, stream);
        return;
    }
    if (args.split_input) {
        // One GEMM over the 2T rows of the pair (weights read once), then hi + lo + bias.
        LinearArgs both = args;
        both.num_tokens = 2 * args.num_tokens;
        both.bias = nullptr;
        both.split_input = false;
        run(both, stream);
        sum_split_halves(
            {.y = args.y, .bias = args.bias, .num_tokens = args.num_tokens, .width = args.out_features},
            stream);
        return;
    }
    const Plan& plan = plan_for(args);
    if (args.bias)
        GPTOSS_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                           &args.bias, sizeof(args.bias)));
    const float alpha = 1.0f, beta = 0.0f;
    GPTOSS_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.desc, &alpha, args.weight, plan.a, args.x, plan.b, &beta,
                                       args.y, plan.d, args.y, plan.d, &plan.algo, workspace_,
                                       workspace_bytes_, stream));
}

}  // namespace gptoss::cuda
