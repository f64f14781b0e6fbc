// ScriptedRunner: a ModelRunner for tests that replays given token sequences instead of running a model,
// so malformed model output, forced tool calls and slow streams can go through the real engine, harmony
// parser and SSE path.
//
// A prompt selects its script with a marker in its text, "[[script:NAME]]" (the last one wins, so a
// multi-turn conversation can switch scripts); the runner then emits the script's tokens in order and,
// past its end, a filler token ("."), so a script without a stop token runs into max_tokens. Prompts without
// a marker get the "default" script. "[[delay_ms:N]]" in a prompt makes every step that schedules it take
// at least N ms (slow streams for disconnect and shutdown tests).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model_config.h"
#include "engine/model_runner.h"

namespace gptoss {

class Tokenizer;

// scripts: name -> harmony text (special tokens written out, e.g. "<|channel|>final<|message|>Hi<|return|>").
std::unique_ptr<ModelRunner> make_scripted_runner(const ModelConfig& config,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  const std::map<std::string, std::string>& scripts);

}  // namespace gptoss
