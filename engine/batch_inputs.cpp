#include "engine/batch_inputs.h"

#include <stdexcept>

namespace gptoss {

void BatchInputs::add_sequence_sampling(const SequenceSampling& seq_sampling, int num_rows) {
    const size_t s = sampling.size();
    if (query_start.size() < s + 2) {
        throw std::logic_error("add_sequence_sampling: the sequence's tokens come first");
    }
    const int end = query_start[s + 1];
    if (num_rows > end - query_start[s])
        throw std::logic_error("add_sequence_sampling: more rows than tokens");
    if (sample_start.empty()) sample_start.push_back(0);
    sampling.push_back(seq_sampling);
    for (int j = 0; j < num_rows; ++j) {
        sample_seq.push_back(static_cast<int32_t>(s));
        sample_token_index.push_back(end - num_rows + j);
    }
    sample_start.push_back(sample_start.back() + num_rows);
}

}  // namespace gptoss
