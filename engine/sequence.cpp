#include "engine/sequence.h"

#include <utility>

namespace gptoss {

Sequence::Sequence(Request request, uint64_t arrival_index)
    : id(request.id),
      arrival_index(arrival_index),
      priority(request.priority),
      sampling(std::move(request.sampling)),
      stop(std::move(request.stop)),
      token_ids(std::move(request.prompt_token_ids)),
      num_prompt_tokens(static_cast<int>(token_ids.size())),
      constraint(sampling.constraint ? sampling.constraint->start() : nullptr) {}

}  // namespace gptoss
