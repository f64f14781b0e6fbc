// PagedBatches: builds multi-sequence BatchInputs the way the engine does, for runner comparisons without the
// scheduler. Sequences advance num_computed through prefill chunks and decodes; full-pool pages come from a
// shuffled free list; windowed pages behind every future query's window are released and recycled, so the
// window table is compact (window_first_block > 0) and pages are reused across sequences.
#pragma once

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "config/model_config.h"
#include "engine/batch_inputs.h"
#include "engine/model_runner.h"

namespace gptoss::testing {

class PagedBatches {
public:
    struct Entry {
        int seq;
        int num_new;
    };

    PagedBatches(const ModelConfig& config, int block_size, int num_full_blocks, int num_window_blocks,
                 uint32_t seed)
        : config_(config), layout_{block_size, num_full_blocks, num_window_blocks} {
        std::mt19937 rng(seed);
        full_free_.resize(num_full_blocks);
        std::iota(full_free_.begin(), full_free_.end(), 0);
        std::shuffle(full_free_.begin(), full_free_.end(), rng);
        window_free_.resize(num_window_blocks);
        std::iota(window_free_.begin(), window_free_.end(), 0);
        std::shuffle(window_free_.begin(), window_free_.end(), rng);
        greedy_.temperature = 0.0f;
    }

    const KvCacheLayout& layout() const { return layout_; }
    int add_sequence(std::vector<int32_t> prompt) {
        seqs_.push_back(Seq{std::move(prompt)});
        seqs_.back().num_prompt = static_cast<int>(seqs_.back().tokens.size());
        return static_cast<int>(seqs_.size()) - 1;
    }
    void append(int seq, int32_t token) { seqs_[seq].tokens.push_back(token); }
    int num_tokens(int seq) const { return static_cast<int>(seqs_[seq].tokens.size()); }
    int num_computed(int seq) const { return seqs_[seq].num_computed; }

    // One step over `entries` (each moves a sequence num_new tokens forward). A sequence whose step reaches
    // its last known token samples greedily. Logits are requested for every sampled row and every
    // `check_every`-th row (0 = none); `checked` receives (seq, position) of each requested row.
    BatchInputs build(const std::vector<Entry>& entries, int check_every,
                      std::vector<std::pair<int, int>>* checked) {
        const int BS = layout_.block_size, W = config_.sliding_window;
        BatchInputs in;
        in.num_seqs = static_cast<int>(entries.size());
        in.block_size = BS;
        in.query_start.push_back(0);
        std::vector<std::vector<int32_t>> full_rows, window_rows;
        for (const Entry& e : entries) {
            Seq& s = seqs_.at(e.seq);
            const int begin = s.num_computed, end = begin + e.num_new;
            if (e.num_new <= 0 || end > num_tokens(e.seq))
                throw std::invalid_argument("PagedBatches: bad entry");
            for (int b = static_cast<int>(s.full_pages.size()); b <= (end - 1) / BS; ++b)
                s.full_pages.push_back(pop(full_free_));
            // Windowed pages: release those behind the lowest query's window, allocate the new ones.
            const int first = W > 0 ? std::max(0, begin - W + 1) / BS : 0;
            for (auto it = s.window_pages.begin(); it != s.window_pages.end() && it->first < first;) {
                window_free_.push_back(it->second);
                it = s.window_pages.erase(it);
            }
            for (int b = first; b <= (end - 1) / BS; ++b)
                if (!s.window_pages.count(b)) s.window_pages[b] = pop(window_free_);
            for (int p = begin; p < end; ++p) {
                in.token_ids.push_back(s.tokens[p]);
                in.positions.push_back(p);
                in.full_slot_mapping.push_back(int64_t{s.full_pages[p / BS]} * BS + p % BS);
                in.window_slot_mapping.push_back(int64_t{s.window_pages.at(p / BS)} * BS + p % BS);
            }
            const int row0 = in.query_start.back();
            in.query_start.push_back(row0 + e.num_new);
            in.context_lens.push_back(end);
            full_rows.push_back(s.full_pages);
            std::vector<int32_t> window_row;
            for (int b = first; b <= (end - 1) / BS; ++b) window_row.push_back(s.window_pages.at(b));
            window_rows.push_back(window_row);
            in.window_first_block.push_back(first);
            const bool sample = end == num_tokens(e.seq);
            SequenceSampling sampling;
            sampling.params = &greedy_;
            sampling.output_index = end - s.num_prompt;
            in.add_sequence_sampling(sampling, sample ? 1 : 0);
            for (int p = begin; p < end; ++p) {
                const bool last = p == end - 1 && sample;
                if (last || (check_every > 0 && p % check_every == 0)) {
                    in.logits_token_indices.push_back(row0 + p - begin);
                    if (checked) checked->push_back({e.seq, p});
                }
            }
        }
        in.num_tokens = in.query_start.back();
        auto pack = [&](const std::vector<std::vector<int32_t>>& rows, int& stride,
                        std::vector<int32_t>& table) {
            stride = 1;
            for (const auto& r : rows) stride = std::max(stride, static_cast<int>(r.size()) + 1);
            table.assign(rows.size() * stride, -1);
            for (size_t s = 0; s < rows.size(); ++s)
                std::copy(rows[s].begin(), rows[s].end(), &table[s * stride]);
        };
        pack(full_rows, in.full_table_stride, in.full_block_table);
        pack(window_rows, in.window_table_stride, in.window_block_table);
        return in;
    }

    void advance(const std::vector<Entry>& entries) {
        for (const Entry& e : entries) seqs_[e.seq].num_computed += e.num_new;
    }

private:
    struct Seq {
        std::vector<int32_t> tokens;
        int num_prompt = 0;
        int num_computed = 0;
        std::vector<int32_t> full_pages;      // logical block -> page
        std::map<int, int32_t> window_pages;  // logical block -> page (only live ones)
    };
    static int32_t pop(std::vector<int32_t>& free_list) {
        if (free_list.empty()) throw std::runtime_error("PagedBatches: out of pages");
        const int32_t page = free_list.back();
        free_list.pop_back();
        return page;
    }

    ModelConfig config_;
    KvCacheLayout layout_;
    SamplingParams greedy_;
    std::vector<Seq> seqs_;
    std::vector<int32_t> full_free_, window_free_;
};

}  // namespace gptoss::testing
