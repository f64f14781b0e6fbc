#include "engine/weights/dtype.h"

namespace gptoss {

std::string_view dtype_name(DType dtype) {
    switch (dtype) {
        case DType::kBF16:
            return "BF16";
        case DType::kF16:
            return "F16";
        case DType::kF32:
            return "F32";
        case DType::kU8:
            return "U8";
        case DType::kI8:
            return "I8";
        case DType::kI32:
            return "I32";
        case DType::kI64:
            return "I64";
        case DType::kF64:
            return "F64";
        case DType::kBool:
            return "BOOL";
    }
    return "?";
}

size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::kU8:
        case DType::kI8:
        case DType::kBool:
            return 1;
        case DType::kBF16:
        case DType::kF16:
            return 2;
        case DType::kF32:
        case DType::kI32:
            return 4;
        case DType::kI64:
        case DType::kF64:
            return 8;
    }
    return 0;
}

}  // namespace gptoss
