#include "engine/output_processor.h"

#include <algorithm>
#include <stdexcept>

namespace gptoss {

OutputProcessor::OutputProcessor(std::shared_ptr<const Tokenizer> tokenizer, const StopCriteria& stop,
                                 bool want_logprobs)
    : want_logprobs_(want_logprobs) {
    for (const std::string& s : stop.stop_strings) {
        if (!s.empty()) stop_strings_.push_back(s);
    }
    if (tokenizer) {
        decoder_.emplace(std::move(tokenizer), /*skip_special=*/true);
    } else if (!stop_strings_.empty()) {
        throw std::invalid_argument("stop strings need a tokenizer");
    }
}

size_t OutputProcessor::find_stop(size_t* which) const {
    size_t best = std::string::npos;
    for (size_t i = 0; i < stop_strings_.size(); ++i) {
        const size_t at = held_text_.find(stop_strings_[i]);
        if (at < best) {
            best = at;
            *which = i;
        }
    }
    return best;
}

size_t OutputProcessor::hold_point() const {
    for (size_t p = 0; p < held_text_.size(); ++p) {
        const std::string_view tail = std::string_view(held_text_).substr(p);
        for (const std::string& s : stop_strings_) {
            if (tail.size() < s.size() && s.compare(0, tail.size(), tail) == 0) return p;
        }
    }
    return held_text_.size();
}

TokenEvent OutputProcessor::release(const Sequence& seq, size_t num_text_bytes, bool all_tokens) {
    TokenEvent event;
    event.text = held_text_.substr(0, num_text_bytes);
    size_t n = 0;
    while (n < held_tokens_.size() && (all_tokens || held_tokens_[n].text_end <= num_text_bytes)) {
        event.token_ids.push_back(held_tokens_[n].token);
        if (want_logprobs_) event.logprobs.push_back(std::move(held_tokens_[n].logprob));
        ++n;
    }
    held_tokens_.erase(held_tokens_.begin(), held_tokens_.begin() + ptrdiff_t(n));
    held_text_.erase(0, num_text_bytes);
    for (HeldToken& t : held_tokens_)
        t.text_end = t.text_end > num_text_bytes ? t.text_end - num_text_bytes : 0;
    num_released_tokens_ += static_cast<int>(n);
    event.num_prompt_tokens = seq.num_prompt_tokens;
    event.num_cached_tokens = seq.num_cached_prompt_tokens;
    event.num_output_tokens = num_released_tokens_;
    return event;
}

std::optional<TokenEvent> OutputProcessor::on_token(const Sequence& seq, int32_t token,
                                                    const TokenLogprob* logprob, FinishReason finish) {
    if (finished_) throw std::logic_error("OutputProcessor: token after the end of the stream");
    if (decoder_) held_text_ += decoder_->push(token);
    TokenLogprob lp = logprob != nullptr ? *logprob : TokenLogprob{token, 0.0f, {}};
    held_tokens_.push_back({token, std::move(lp), held_text_.size()});

    size_t which = 0;
    if (const size_t match = find_stop(&which); match != std::string::npos) {
        held_text_ += decoder_->flush();
        const size_t trim = held_text_.size() - match;
        TokenEvent event = release(seq, match, /*all_tokens=*/true);
        stop_string_ = stop_strings_[which];
        event.stop_trim_bytes = trim;
        event.finished = true;
        event.finish_reason = FinishReason::kStop;
        event.stop_string = stop_string_;
        held_text_.clear();
        finished_ = true;
        return event;
    }
    if (finish != FinishReason::kNone) {
        if (decoder_) held_text_ += decoder_->flush();
        TokenEvent event = release(seq, held_text_.size(), /*all_tokens=*/true);
        event.finished = true;
        event.finish_reason = finish;
        if (finish == FinishReason::kStop) event.stop_token = token;
        finished_ = true;
        return event;
    }
    TokenEvent event = release(seq, hold_point(), /*all_tokens=*/false);
    if (event.token_ids.empty() && event.text.empty()) return std::nullopt;
    return event;
}

TokenEvent OutputProcessor::on_finish(const Sequence& seq, FinishReason reason, std::string error) {
    if (decoder_ && !finished_) held_text_ += decoder_->flush();
    TokenEvent event = release(seq, held_text_.size(), /*all_tokens=*/true);
    event.finished = true;
    event.finish_reason = reason;
    event.error = std::move(error);
    finished_ = true;
    return event;
}

}  // namespace gptoss
