// CpuRunner over the paged layout: scoring a sequence in one pass, generating it token by token, chunked
// prefill with odd splits, odd block sizes, shuffled non-contiguous pages, windowed pages released behind the
// window (-1 / window_first_block > 0) and reused, several sequences per batch and 1 or 2 threads all give
// the same logits. Batch composition and threads must not change a single bit (fixed reduction order per
// row).
#include "engine/cpu/cpu_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "engine/single_sequence_driver.h"
#include "tests/engine/golden_test_util.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

std::shared_ptr<const ModelWeights> tiny_weights() {
    static std::shared_ptr<const ModelWeights> weights = [] {
        auto dir = testing::tiny_gptoss_dir();
        return std::shared_ptr<const ModelWeights>(ModelWeights::load(dir, ModelConfig::from_file(dir)));
    }();
    return weights;
}

std::vector<int32_t> random_ids(int n, uint32_t seed, int vocab) {
    std::mt19937 rng(seed);
    std::vector<int32_t> ids(n);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % (vocab - 2));
    return ids;
}

// Logits [T, V] of every position, in one pass over contiguous pages.
std::vector<float> reference_logits(const std::vector<int32_t>& ids) {
    auto runner = make_cpu_runner(tiny_weights(), 1);
    SingleSequenceDriver driver(*runner, static_cast<int>(ids.size()));
    return driver.score(ids);
}

// Drives a runner the way the scheduler will: pages come from shuffled free lists, windowed pages behind
// every query's window are released (the table then starts at window_first_block) and go back to the free
// list, to be reused by other sequences.
class PagedHarness {
public:
    struct Seq {
        std::vector<int32_t> tokens;
        int computed = 0;
        std::vector<int32_t> full_pages;    // logical block b -> page
        std::vector<int32_t> window_pages;  // logical block window_first + i -> page
        int window_first = 0;
        std::vector<float> logits;  // [T, V] collected as the steps go
    };

    PagedHarness(int block_size, int num_full_pages, int num_window_pages, int threads, uint32_t seed)
        : runner_(make_cpu_runner(tiny_weights(), threads)), block_size_(block_size), rng_(seed) {
        runner_->allocate_kv_cache({block_size, num_full_pages, num_window_pages});
        for (int i = 0; i < num_full_pages; ++i) free_full_.push_back(i);
        for (int i = 0; i < num_window_pages; ++i) free_window_.push_back(i);
        std::shuffle(free_full_.begin(), free_full_.end(), rng_);
        std::shuffle(free_window_.begin(), free_window_.end(), rng_);
    }

    int add(std::vector<int32_t> tokens) {
        Seq s;
        s.tokens = std::move(tokens);
        s.logits.resize(s.tokens.size() * vocab());
        seqs_.push_back(std::move(s));
        return static_cast<int>(seqs_.size()) - 1;
    }
    const Seq& seq(int i) const { return seqs_[i]; }
    bool done(int i) const { return seqs_[i].computed == static_cast<int>(seqs_[i].tokens.size()); }

    // One step: sequence i advances by n tokens, for each (i, n) in `work` (in this batch order).
    void step(const std::vector<std::pair<int, int>>& work) {
        const int BS = block_size_;
        BatchInputs in;
        in.block_size = BS;
        in.num_seqs = static_cast<int>(work.size());
        in.query_start = {0};
        for (auto [i, n] : work) {
            Seq& s = seqs_[i];
            const int end = s.computed + n;
            while (static_cast<int>(s.full_pages.size()) * BS < end) s.full_pages.push_back(take(free_full_));
            while ((s.window_first + static_cast<int>(s.window_pages.size())) * BS < end) {
                s.window_pages.push_back(take(free_window_));
            }
            in.full_table_stride = std::max(in.full_table_stride, static_cast<int>(s.full_pages.size()));
            in.window_table_stride =
                std::max(in.window_table_stride, static_cast<int>(s.window_pages.size()));
        }
        for (auto [i, n] : work) {
            Seq& s = seqs_[i];
            for (int p = s.computed; p < s.computed + n; ++p) {
                in.logits_token_indices.push_back(static_cast<int32_t>(in.token_ids.size()));
                in.token_ids.push_back(s.tokens[p]);
                in.positions.push_back(p);
                in.full_slot_mapping.push_back(int64_t{s.full_pages[p / BS]} * BS + p % BS);
                in.window_slot_mapping.push_back(int64_t{s.window_pages[p / BS - s.window_first]} * BS +
                                                 p % BS);
            }
            in.query_start.push_back(static_cast<int32_t>(in.token_ids.size()));
            in.context_lens.push_back(s.computed + n);
            std::vector<int32_t> full(in.full_table_stride, -1), window(in.window_table_stride, -1);
            std::copy(s.full_pages.begin(), s.full_pages.end(), full.begin());
            std::copy(s.window_pages.begin(), s.window_pages.end(), window.begin());
            in.full_block_table.insert(in.full_block_table.end(), full.begin(), full.end());
            in.window_block_table.insert(in.window_block_table.end(), window.begin(), window.end());
            in.window_first_block.push_back(s.window_first);
        }
        in.num_tokens = static_cast<int>(in.token_ids.size());
        StepOutput out = runner_->execute(in);

        const int V = vocab();
        int row = 0;
        for (auto [i, n] : work) {
            Seq& s = seqs_[i];
            for (int p = s.computed; p < s.computed + n; ++p, ++row) {
                std::copy_n(&out.logits[size_t(row) * V], V, &s.logits[size_t(p) * V]);
            }
            s.computed += n;
            release_behind_window(s);
        }
    }

private:
    int vocab() const { return tiny_weights()->config().vocab_size; }
    static int32_t take(std::vector<int32_t>& free_list) {
        if (free_list.empty()) throw std::runtime_error("test harness ran out of pages");
        int32_t page = free_list.back();
        free_list.pop_back();
        return page;
    }
    // The next query is at position `computed`; it sees keys from computed - window + 1 on.
    void release_behind_window(Seq& s) {
        const int first_needed = std::max(0, s.computed - tiny_weights()->config().sliding_window + 1);
        while (!s.window_pages.empty() && (s.window_first + 1) * block_size_ <= first_needed) {
            free_window_.insert(free_window_.begin() + rng_() % (free_window_.size() + 1),
                                s.window_pages.front());
            s.window_pages.erase(s.window_pages.begin());
            ++s.window_first;
        }
    }

    std::unique_ptr<ModelRunner> runner_;
    int block_size_;
    std::mt19937 rng_;
    std::vector<int32_t> free_full_, free_window_;
    std::vector<Seq> seqs_;
};

double worst_error(const std::vector<float>& a, const std::vector<float>& b, int V) {
    double worst = 0;
    for (size_t p = 0; p < a.size() / V; ++p)
        worst = std::max(worst, testing::relative_l2(&a[p * V], &b[p * V], V));
    return worst;
}

TEST(CpuRunner, TokenByTokenGenerationMatchesOnePassScoring) {
    const int V = tiny_weights()->config().vocab_size;
    const auto ids = random_ids(70, 7, V);
    const auto reference = reference_logits(ids);
    for (int block_size : {1, 3, 16}) {
        PagedHarness h(block_size, 200, 40, 1, 11 + block_size);
        int s = h.add(ids);
        while (!h.done(s)) h.step({{s, 1}});
        const double err = worst_error(h.seq(s).logits, reference, V);
        std::printf("token by token, block size %2d: worst relative L2 %.3e\n", block_size, err);
        EXPECT_LE(err, 1e-5);
        EXPECT_EQ(h.seq(s).logits, reference) << "the reduction order does not depend on the step's size";
    }
}

TEST(CpuRunner, ChunkedPrefillWithOddSplitsAndBlockSizes) {
    const int V = tiny_weights()->config().vocab_size;
    const auto ids = random_ids(61, 3, V);
    const auto reference = reference_logits(ids);
    const std::vector<std::vector<int>> splits = {{5, 13, 1, 7}, {17}, {2, 31}, {60, 1}};
    for (int block_size : {1, 5, 7, 16}) {
        for (const auto& split : splits) {
            PagedHarness h(block_size, 200, 60, 1, 5 * block_size);
            int s = h.add(ids);
            for (size_t k = 0; !h.done(s); ++k) {
                const int n =
                    std::min(split[k % split.size()], static_cast<int>(ids.size()) - h.seq(s).computed);
                h.step({{s, n}});
            }
            EXPECT_EQ(h.seq(s).logits, reference) << "block size " << block_size << " split " << split[0];
            EXPECT_LE(worst_error(h.seq(s).logits, reference, V), 1e-5);
        }
    }
}

TEST(CpuRunner, BatchCompositionAndThreadsChangeNoBit) {
    const int V = tiny_weights()->config().vocab_size;
    const std::vector<std::vector<int32_t>> prompts = {random_ids(61, 21, V), random_ids(40, 22, V),
                                                       random_ids(23, 23, V), random_ids(9, 24, V)};
    std::vector<std::vector<float>> reference;
    for (const auto& p : prompts) reference.push_back(reference_logits(p));
    for (int threads : {1, 2}) {
        // Each sequence moves at its own pace (prefill chunks and single tokens mixed in one step), so every
        // step batches a different set of rows; pages are shuffled and windowed pages released and reused.
        PagedHarness h(3, 200, 80, threads, 99 + threads);
        std::vector<int> ids;
        for (const auto& p : prompts) ids.push_back(h.add(p));
        const int chunk[] = {11, 1, 6, 2};
        for (int round = 0;; ++round) {
            std::vector<std::pair<int, int>> work;
            for (int i : ids) {
                if (h.done(i)) continue;
                const int left = static_cast<int>(prompts[i].size()) - h.seq(i).computed;
                work.push_back({i, std::min(left, (round + i) % 3 == 0 ? 1 : chunk[i])});
            }
            if (work.empty()) break;
            if (round % 2) std::reverse(work.begin(), work.end());
            h.step(work);
        }
        for (size_t i = 0; i < prompts.size(); ++i) {
            EXPECT_EQ(h.seq(ids[i]).logits, reference[i])
                << "sequence " << i << ", " << threads << " threads";
        }
    }
}

// Long enough that every op takes its multithreaded path (short steps stay on one thread).
TEST(CpuRunner, ThreadsChangeNoBitOnALongPrompt) {
    const int V = tiny_weights()->config().vocab_size;
    const auto ids = random_ids(300, 17, V);
    const auto reference = reference_logits(ids);
    auto runner = make_cpu_runner(tiny_weights(), 2);
    SingleSequenceDriver driver(*runner, static_cast<int>(ids.size()),
                                {.block_size = 16, .prefill_chunk = 200});
    EXPECT_EQ(driver.score(ids), reference);
}

TEST(CpuRunner, SamplesFromEachSequencesLastRow) {
    const ModelConfig& config = tiny_weights()->config();
    auto runner = make_cpu_runner(tiny_weights(), 1);
    SingleSequenceDriver driver(*runner, 64);
    const auto ids = random_ids(20, 5, config.vocab_size);
    const auto logits = driver.score(ids, std::vector<int32_t>{19});
    const int32_t argmax =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    SamplingParams greedy;
    greedy.temperature = 0;
    auto runner2 = make_cpu_runner(tiny_weights(), 1);
    SingleSequenceDriver driver2(*runner2, 64);
    EXPECT_EQ(driver2.generate(ids, 1, greedy), std::vector<int32_t>{argmax});
}

TEST(CpuRunner, RejectsMalformedBatches) {
    auto runner = make_cpu_runner(tiny_weights(), 1);
    runner->allocate_kv_cache({4, 8, 8});
    BatchInputs in;
    in.block_size = 4;
    in.num_seqs = 1;
    in.num_tokens = 1;
    in.token_ids = {5000};  // outside the 1024-token vocabulary
    in.positions = {0};
    in.query_start = {0, 1};
    in.context_lens = {1};
    in.full_table_stride = in.window_table_stride = 1;
    in.full_block_table = {0};
    in.window_block_table = {0};
    in.window_first_block = {0};
    in.full_slot_mapping = {0};
    in.window_slot_mapping = {0};
    EXPECT_THROW(runner->execute(in), std::invalid_argument);
    in.token_ids = {5};
    in.full_block_table = {9};  // a page the pool does not have
    EXPECT_THROW(runner->execute(in), std::invalid_argument);
    in.full_block_table = {0};
    in.window_slot_mapping = {32};  // past the windowed pool
    EXPECT_THROW(runner->execute(in), std::invalid_argument);
    in.window_slot_mapping = {0};
    EXPECT_NO_THROW(runner->execute(in));
}

TEST(CpuRunner, KvSizing) {
    auto runner = make_cpu_runner(tiny_weights(), 1);
    EXPECT_EQ(runner->kv_bytes_per_token_per_layer(), size_t{2} * 2 * 64 * 4);
    EXPECT_EQ(runner->backend_name(), "cpu");
    const int64_t budget = runner->default_kv_cache_bytes(EngineConfig{});
    EXPECT_GT(budget, 0);
    EXPECT_LE(budget, int64_t{2} << 30);
}

}  // namespace
}  // namespace gptoss
