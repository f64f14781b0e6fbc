#include "engine/output_processor.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/fixture.h"

namespace gptoss {
namespace {

// The real o200k_harmony vocabulary (from the toy checkpoint's tokenizer.json).
const std::shared_ptr<const Tokenizer>& tokenizer() {
    static const std::shared_ptr<const Tokenizer> t =
        Tokenizer::from_file(testing::toy_harmony_dir() / "tokenizer.json");
    return t;
}

struct Released {
    std::vector<TokenEvent> events;
    std::string text;                       // all released text
    std::vector<int32_t> token_ids;         // all released tokens
    std::vector<std::string> texts_so_far;  // released text after each token
    bool stopped_by_string = false;
};

// Feeds `ids` one by one as a sequence's output; the scheduler's verdict `last_reason` applies to the last.
Released feed(const std::vector<int32_t>& ids, StopCriteria stop,
              FinishReason last_reason = FinishReason::kLength, bool logprobs = false) {
    Request request;
    request.prompt_token_ids = {1, 2, 3};
    request.stop = stop;
    Sequence seq(request, 0);
    OutputProcessor processor(tokenizer(), stop, logprobs);
    Released run;
    for (size_t i = 0; i < ids.size(); ++i) {
        seq.token_ids.push_back(ids[i]);
        const FinishReason finish = i + 1 == ids.size() ? last_reason : FinishReason::kNone;
        TokenLogprob lp{ids[i], -0.5f * float(i), {}};
        std::optional<TokenEvent> event = processor.on_token(seq, ids[i], logprobs ? &lp : nullptr, finish);
        if (event) {
            run.text += event->text;
            run.token_ids.insert(run.token_ids.end(), event->token_ids.begin(), event->token_ids.end());
            if (logprobs) {
                EXPECT_EQ(event->logprobs.size(), event->token_ids.size());
                for (size_t k = 0; k < event->token_ids.size(); ++k) {
                    EXPECT_EQ(event->logprobs[k].token, event->token_ids[k]);
                }
            }
            run.events.push_back(std::move(*event));
        }
        run.texts_so_far.push_back(run.text);
        if (processor.stopped_by_string()) {
            run.stopped_by_string = true;
            break;
        }
    }
    return run;
}

std::vector<int32_t> encode(const std::string& text) {
    return tokenizer()->encode_ordinary(text);
}

TEST(OutputProcessor, WithoutStopStringsEveryTokenIsReleasedAtOnce) {
    const auto ids = encode("Hello there, how are you?");
    ASSERT_GT(ids.size(), 3u);
    const Released run = feed(ids, StopCriteria{});
    EXPECT_EQ(run.events.size(), ids.size());
    EXPECT_EQ(run.text, "Hello there, how are you?");
    EXPECT_EQ(run.token_ids, ids);
    const TokenEvent& last = run.events.back();
    EXPECT_TRUE(last.finished);
    EXPECT_EQ(last.finish_reason, FinishReason::kLength);
    EXPECT_EQ(last.num_output_tokens, static_cast<int>(ids.size()));
    EXPECT_EQ(last.num_prompt_tokens, 3);
}

TEST(OutputProcessor, StopStringAcrossTokensIsNeverReleasedAndCutsTheText) {
    const std::string text = "The answer is 42. END OF STORY and more";
    const auto ids = encode(text);
    StopCriteria stop;
    stop.stop_strings = {"END OF"};
    const Released run = feed(ids, stop, FinishReason::kNone);
    ASSERT_TRUE(run.stopped_by_string);
    EXPECT_EQ(run.text, "The answer is 42. ");
    for (const std::string& so_far : run.texts_so_far) {
        EXPECT_EQ(so_far.find("END"), std::string::npos) << so_far;
        EXPECT_EQ(text.compare(0, so_far.size(), so_far), 0);
    }
    const TokenEvent& last = run.events.back();
    EXPECT_TRUE(last.finished);
    EXPECT_EQ(last.finish_reason, FinishReason::kStop);
    EXPECT_EQ(last.stop_string, "END OF");
    // Every token up to the one completing the match is released; stop_trim_bytes removes what lies at or
    // after the match from their decoded text.
    const std::string decoded = tokenizer()->decode(run.token_ids);
    ASSERT_GE(decoded.size(), last.stop_trim_bytes);
    EXPECT_EQ(decoded.substr(0, decoded.size() - last.stop_trim_bytes), run.text);
    EXPECT_EQ(decoded.substr(decoded.size() - last.stop_trim_bytes).rfind("END OF", 0), 0u);
}

TEST(OutputProcessor, APartialStopStringIsHeldThenReleasedWhenItDoesNotMatch) {
    const std::string text = "stop at ENDX no wait, the END? END!";
    const auto ids = encode(text);
    StopCriteria stop;
    stop.stop_strings = {"END!", "never"};
    const Released run = feed(ids, stop, FinishReason::kNone);
    ASSERT_TRUE(run.stopped_by_string);
    EXPECT_EQ(run.text, "stop at ENDX no wait, the END? ");
    EXPECT_EQ(run.events.back().stop_string, "END!");
}

TEST(OutputProcessor, HeldTextIsReleasedWhenTheRequestEndsOtherwise) {
    const auto ids = encode("it ends with EN");
    StopCriteria stop;
    stop.stop_strings = {"END"};
    const Released run = feed(ids, stop, FinishReason::kLength);
    EXPECT_FALSE(run.stopped_by_string);
    EXPECT_EQ(run.text, "it ends with EN");  // "EN" was held, then released by the length finish
    EXPECT_EQ(run.token_ids, ids);
    EXPECT_EQ(run.events.back().finish_reason, FinishReason::kLength);
    EXPECT_EQ(run.events.back().stop_trim_bytes, 0u);
}

TEST(OutputProcessor, MultiByteCharacterSplitAcrossTokensIsReleasedWhole) {
    // "é" as two single-byte tokens.
    std::vector<int32_t> ids = encode("caf");
    const auto b1 = encode("\xC3"), b2 = encode("\xA9");
    ASSERT_EQ(b1.size(), 1u);
    ASSERT_EQ(b2.size(), 1u);
    ids.push_back(b1[0]);
    ids.push_back(b2[0]);
    const Released run = feed(ids, StopCriteria{});
    EXPECT_EQ(run.text, "caf\xC3\xA9");
    for (const TokenEvent& e : run.events) {
        EXPECT_EQ(e.text.find('\xC3') != std::string::npos, e.text.find('\xA9') != std::string::npos);
    }
}

TEST(OutputProcessor, StopTokenIsPartOfTheOutputButSpecialTextIsSkipped) {
    const int32_t ret = *tokenizer()->special_token_id("<|return|>");
    std::vector<int32_t> ids = encode("Done.");
    ids.push_back(ret);
    Request request;
    request.prompt_token_ids = {1};
    Sequence seq(request, 0);
    OutputProcessor processor(tokenizer(), StopCriteria{}, false);
    std::string text;
    std::optional<TokenEvent> last;
    for (int32_t id : ids) {
        seq.token_ids.push_back(id);
        last = processor.on_token(seq, id, nullptr, id == ret ? FinishReason::kStop : FinishReason::kNone);
        ASSERT_TRUE(last.has_value());
        text += last->text;
    }
    EXPECT_EQ(text, "Done.");
    EXPECT_TRUE(last->finished);
    EXPECT_EQ(last->finish_reason, FinishReason::kStop);
    EXPECT_EQ(last->stop_token, ret);
    EXPECT_EQ(last->token_ids.back(), ret);
    EXPECT_FALSE(last->stop_string.has_value());
}

TEST(OutputProcessor, LogprobsTravelWithTheirHeldTokens) {
    const auto ids = encode("one two three STOP four");
    StopCriteria stop;
    stop.stop_strings = {"STOP"};
    const Released run = feed(ids, stop, FinishReason::kNone, /*logprobs=*/true);
    ASSERT_TRUE(run.stopped_by_string);
    size_t n = 0;
    for (const TokenEvent& e : run.events) {
        for (size_t k = 0; k < e.logprobs.size(); ++k, ++n)
            EXPECT_FLOAT_EQ(e.logprobs[k].logprob, -0.5f * float(n));
    }
    EXPECT_EQ(n, run.token_ids.size());
}

TEST(OutputProcessor, AbortReleasesWhatIsHeld) {
    Request request;
    request.prompt_token_ids = {1};
    StopCriteria stop;
    stop.stop_strings = {"xyz"};
    Sequence seq(request, 0);
    OutputProcessor processor(tokenizer(), stop, false);
    const auto ids = encode("abc x");
    std::string text;
    for (int32_t id : ids) {
        seq.token_ids.push_back(id);
        if (auto e = processor.on_token(seq, id, nullptr, FinishReason::kNone)) text += e->text;
    }
    EXPECT_EQ(text, "abc ");
    const TokenEvent end = processor.on_finish(seq, FinishReason::kAbort);
    EXPECT_EQ(end.text, "x");
    EXPECT_TRUE(end.finished);
    EXPECT_EQ(end.finish_reason, FinishReason::kAbort);
    EXPECT_EQ(end.num_output_tokens, static_cast<int>(ids.size()));
}

}  // namespace
}  // namespace gptoss
